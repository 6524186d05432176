# Qt Test executables of the admin app's core (AdminClient and the item models), headless.
function(qsio_add_admin_core_test name)
    qt_add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
    target_link_libraries(${name} PRIVATE qsio_admin_core QSocketIo Qt6::Test)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen" TIMEOUT 300)
endfunction()

qsio_add_admin_core_test(tst_adminmodels)
qsio_add_admin_core_test(tst_adminclient)
# The test makes its bcrypt hashes with libxcrypt.
target_link_libraries(tst_adminclient PRIVATE ${QSIO_CRYPT_LIBRARY})
# Its nodeServer case runs Node's socket.io with @socket.io/admin-ui through this script (skipped
# when node or the script is missing).
find_program(NODE_EXECUTABLE node)
set_property(TEST tst_adminclient APPEND PROPERTY ENVIRONMENT
    "NODE_ADMIN_SERVER=${CMAKE_SOURCE_DIR}/tests/interop/lib/node-admin-server.mjs"
    "NODE_EXECUTABLE=${NODE_EXECUTABLE}")
