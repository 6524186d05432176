// A minimal Engine.IO echo server: every message a client sends comes back to it.
#include <QSocketIo/engineserver.h>

#include <QtCore/qcoreapplication.h>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QSocketIo::EngineOptions options;
    options.path = QStringLiteral("/engine.io/");
    options.corsAllowedOrigins = QSocketIo::CorsAllowedOrigins::any();
    QSocketIo::EngineServer server(options);
    QObject::connect(
        &server, &QSocketIo::EngineServer::newConnection, [](QSocketIo::EngineSocket *socket) {
            QObject::connect(socket, &QSocketIo::EngineSocket::messageReceived, socket,
                [socket](const QByteArray &data, bool binary) {
                    binary ? socket->sendBinary(data) : socket->send(data);
                });
        });
    const quint16 port = quint16(qEnvironmentVariableIntValue("PORT"));
    if (!server.listen(QHostAddress::LocalHost, port ? port : 3000))
        return 1;
    qInfo("echo server on http://127.0.0.1:%u/engine.io/", server.serverPort());
    return app.exec();
}
