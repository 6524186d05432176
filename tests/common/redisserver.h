#pragma once

// A private Redis for tests: Debian's redis-server on a free loopback port, killed when the
// object goes (also when the test process dies: PR_SET_PDEATHSIG). Header-only, for the unit
// and admin app tests.

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qtest.h>

#include <csignal>
#include <memory>
#include <sys/prctl.h>

namespace QSocketIoTest {

inline const QString redisServerPath = QStringLiteral("/usr/bin/redis-server");

inline quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

class RedisServer
{
public:
    ~RedisServer() { stop(); }

    // port 0: a free one, with a few tries in case another process takes it meanwhile.
    bool start(quint16 port = 0, const QStringList &extra = {})
    {
        stop();
        for (int attempt = 0; attempt < 5; ++attempt) {
            const quint16 p = port ? port : freePort();
            if (p && launch(p, extra)) {
                m_port = p;
                m_extra = extra;
                return true;
            }
            // A fixed port may still be held by the server just killed: wait a little.
            QTest::qWait(100);
        }
        return false;
    }
    bool restart() { return start(m_port, m_extra); }

    void stop()
    {
        if (!m_process)
            return;
        m_process->kill(); // SIGKILL: no goodbye to the clients, like a crash
        m_process->waitForFinished(5000);
        m_process.reset();
    }

    quint16 port() const { return m_port; }

private:
    bool launch(quint16 port, const QStringList &extra)
    {
        auto process = std::make_unique<QProcess>();
        process->setProgram(redisServerPath);
        process->setArguments(
            QStringList {QStringLiteral("--save"), QString(), QStringLiteral("--appendonly"),
                QStringLiteral("no"), QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                QStringLiteral("--port"), QString::number(port), QStringLiteral("--dir"),
                m_dir.path(), QStringLiteral("--daemonize"), QStringLiteral("no"),
                QStringLiteral("--logfile"), QString()}
            + extra);
        process->setProcessChannelMode(QProcess::MergedChannels);
        // Killed with the test process even when that one crashes: no orphans.
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        process->start();
        if (!process->waitForStarted(5000))
            return false;
        QByteArray log;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 5000) {
            if (process->state() != QProcess::Running)
                break;
            process->waitForReadyRead(50);
            log += process->readAll();
            if (log.contains("Ready to accept connections")) {
                m_process = std::move(process);
                return true;
            }
        }
        process->kill();
        process->waitForFinished(5000);
        log += process->readAll();
        qWarning("redis-server on port %u did not start:\n%s", port, log.constData());
        return false;
    }

    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QStringList m_extra;
};

} // namespace QSocketIoTest
