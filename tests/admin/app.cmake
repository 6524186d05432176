# The whole admin app against a real server in the test process, with a socket.io-client under
# Node as the monitored client.
# Imported targets are directory-scoped: the GUI modules are found again here.
find_package(Qt6 6.4 REQUIRED COMPONENTS Widgets Charts)
qt_add_executable(tst_adminapp tst_adminapp.cpp)
target_link_libraries(tst_adminapp PRIVATE qsio_admin_gui QSocketIo Qt6::Test)
set(admin_node "${NODE_EXECUTABLE}")
if(NOT admin_node)
    set(admin_node "")
endif()
target_compile_definitions(tst_adminapp PRIVATE
    QSIO_NODE_EXECUTABLE="${admin_node}"
    QSIO_NODE_CLIENT="${CMAKE_CURRENT_SOURCE_DIR}/node_client.mjs"
    QSIO_NODE_MODULES="${PROJECT_SOURCE_DIR}/tests/interop/node_modules")
add_test(NAME tst_adminapp COMMAND tst_adminapp)
set_tests_properties(tst_adminapp PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen" TIMEOUT 300)
