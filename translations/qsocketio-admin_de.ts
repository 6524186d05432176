<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AdminApp::BroadcastDialog</name>
    <message>
        <source>C&amp;lear</source>
        <translation>&amp;Leeren</translation>
    </message>
    <message>
        <source>Emit an Event</source>
        <translation>Ereignis senden</translation>
    </message>
    <message>
        <source>All sockets of the namespace</source>
        <translation>Alle Sockets des Namensraums</translation>
    </message>
    <message>
        <source>Sockets in a room</source>
        <translation>Sockets in einem Raum</translation>
    </message>
    <message>
        <source>One socket</source>
        <translation>Ein Socket</translation>
    </message>
    <message>
        <source>event name</source>
        <translation>Ereignisname</translation>
    </message>
    <message>
        <source>[&quot;hello&quot;, {&quot;count&quot;: 1}]  or one value, e.g. {&quot;a&quot;: 1}</source>
        <translation>[&quot;hallo&quot;, {&quot;count&quot;: 1}]  oder ein Wert, z. B. {&quot;a&quot;: 1}</translation>
    </message>
    <message>
        <source>no file</source>
        <translation>keine Datei</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Durchsuchen…</translation>
    </message>
    <message>
        <source>&amp;Namespace:</source>
        <translation>&amp;Namensraum:</translation>
    </message>
    <message>
        <source>&amp;To:</source>
        <translation>&amp;An:</translation>
    </message>
    <message>
        <source>&amp;Event:</source>
        <translation>&amp;Ereignis:</translation>
    </message>
    <message>
        <source>&amp;Arguments (JSON):</source>
        <translation>&amp;Argumente (JSON):</translation>
    </message>
    <message>
        <source>Binary &amp;file:</source>
        <translation>Binär&amp;datei:</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Senden</translation>
    </message>
    <message>
        <source>Sent as one more argument, binary (%1 bytes)</source>
        <translation>Wird als weiteres, binäres Argument gesendet (%1 Bytes)</translation>
    </message>
    <message>
        <source>Enter an event name.</source>
        <translation>Geben Sie einen Ereignisnamen ein.</translation>
    </message>
    <message>
        <source>Enter a room.</source>
        <translation>Geben Sie einen Raum ein.</translation>
    </message>
    <message>
        <source>Enter a socket id.</source>
        <translation>Geben Sie eine Socket-ID ein.</translation>
    </message>
    <message>
        <source>Attach a File</source>
        <translation>Datei anhängen</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Not sent: the connection is down or the server is read-only.</source>
        <translation>Nicht gesendet: Die Verbindung ist unterbrochen oder der Server ist schreibgeschützt.</translation>
    </message>
    <message>
        <source>Invalid JSON at line %1, column %2 (offset %3): %4</source>
        <translation>Ungültiges JSON in Zeile %1, Spalte %2 (Position %3): %4</translation>
    </message>
    <message>
        <source>Several values: write the arguments as one JSON array, [first, second]</source>
        <translation>Mehrere Werte: Schreiben Sie die Argumente als ein JSON-Array, [erstes, zweites]</translation>
    </message>
    <message>
        <source>The file %1 does not exist.</source>
        <translation>Die Datei %1 existiert nicht.</translation>
    </message>
    <message>
        <source>%1 is not a regular file.</source>
        <translation>%1 ist keine reguläre Datei.</translation>
    </message>
    <message>
        <source>The file is too big (%1): the server takes at most %2 in one message.</source>
        <translation>Die Datei ist zu groß (%1): Der Server nimmt höchstens %2 in einer Nachricht an.</translation>
    </message>
</context>
<context>
    <name>AdminApp::ConnectDialog</name>
    <message>
        <source>&amp;WebSocket only (no long-polling)</source>
        <translation>Nur &amp;WebSocket (kein Long-Polling)</translation>
    </message>
    <message>
        <source>&amp;Ignore TLS certificate errors</source>
        <translation>TLS-Zertifikatsfehler &amp;ignorieren</translation>
    </message>
    <message>
        <source>Connect to a Socket.IO Server</source>
        <translation>Mit einem Socket.IO-Server verbinden</translation>
    </message>
    <message>
        <source>Accept self-signed certificates. For development servers only.</source>
        <translation>Selbstsignierte Zertifikate annehmen. Nur für Entwicklungsserver.</translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation>Server-&amp;URL:</translation>
    </message>
    <message>
        <source>&amp;Path:</source>
        <translation>&amp;Pfad:</translation>
    </message>
    <message>
        <source>Admin &amp;namespace:</source>
        <translation>Admin-&amp;Namensraum:</translation>
    </message>
    <message>
        <source>User&amp;name:</source>
        <translation>&amp;Benutzername:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Pass&amp;wort:</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Verbinden</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>optional</translation>
    </message>
</context>
<context>
    <name>AdminApp::ConnectionsPage</name>
    <message>
        <source>Filter sockets (id, address, room, data…)</source>
        <translation>Sockets filtern (ID, Adresse, Raum, Daten…)</translation>
    </message>
    <message>
        <source>Select a socket to see its data and handshake.</source>
        <translation>Wählen Sie einen Socket, um seine Daten und seinen Handshake zu sehen.</translation>
    </message>
    <message>
        <source>The server runs in production mode: it reports no individual sockets.</source>
        <translation>Der Server läuft im Produktionsmodus: Er meldet keine einzelnen Sockets.</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Trennen</translation>
    </message>
    <message>
        <source>Disconnect the selected sockets from their namespace</source>
        <translation>Die ausgewählten Sockets von ihrem Namensraum trennen</translation>
    </message>
    <message>
        <source>Disconnect and &amp;Close Connection</source>
        <translation>Trennen und Verbindung &amp;schließen</translation>
    </message>
    <message>
        <source>Disconnect the selected sockets and close their Engine.IO connections</source>
        <translation>Die ausgewählten Sockets trennen und ihre Engine.IO-Verbindungen schließen</translation>
    </message>
    <message>
        <source>&amp;Join Room…</source>
        <translation>Raum &amp;beitreten…</translation>
    </message>
    <message>
        <source>Make the selected sockets join a room</source>
        <translation>Die ausgewählten Sockets einem Raum beitreten lassen</translation>
    </message>
    <message>
        <source>&amp;Leave Room…</source>
        <translation>Raum &amp;verlassen…</translation>
    </message>
    <message>
        <source>Make the selected sockets leave a room</source>
        <translation>Die ausgewählten Sockets einen Raum verlassen lassen</translation>
    </message>
    <message>
        <source>&amp;Emit to Socket…</source>
        <translation>An Socket &amp;senden…</translation>
    </message>
    <message>
        <source>Sockets shown: %1 of %2</source>
        <translation>Angezeigte Sockets: %1 von %2</translation>
    </message>
    <message>
        <source>All namespaces</source>
        <translation>Alle Namensräume</translation>
    </message>
    <message>
        <source>Join Room</source>
        <translation>Raum beitreten</translation>
    </message>
    <message>
        <source>Room the selected sockets join:</source>
        <translation>Raum, dem die ausgewählten Sockets beitreten:</translation>
    </message>
    <message>
        <source>Leave Room</source>
        <translation>Raum verlassen</translation>
    </message>
    <message>
        <source>Room the selected sockets leave:</source>
        <translation>Raum, den die ausgewählten Sockets verlassen:</translation>
    </message>
</context>
<context>
    <name>AdminApp::DashboardPage</name>
    <message>
        <source>Waiting for the first statistics…</source>
        <translation>Warten auf die ersten Statistiken…</translation>
    </message>
    <message>
        <source>Not connected. Use Connect… to pick a server.</source>
        <translation>Nicht verbunden. Wählen Sie mit „Verbinden…“ einen Server.</translation>
    </message>
    <message>
        <source>Servers: %1 · Clients: %2</source>
        <translation>Server: %1 · Clients: %2</translation>
    </message>
</context>
<context>
    <name>AdminApp::EventLogModel</name>
    <message numerus="yes">
        <source>&lt;binary %n bytes&gt;</source>
        <translation>
            <numerusform>&lt;binär, %n Byte&gt;</numerusform>
            <numerusform>&lt;binär, %n Bytes&gt;</numerusform>
        </translation>
    </message>
    <message>
        <source>received</source>
        <translation>empfangen</translation>
    </message>
    <message>
        <source>sent</source>
        <translation>gesendet</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Direction</source>
        <translation>Richtung</translation>
    </message>
    <message>
        <source>Namespace</source>
        <translation>Namensraum</translation>
    </message>
    <message>
        <source>Socket ID</source>
        <translation>Socket-ID</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>Argumente</translation>
    </message>
</context>
<context>
    <name>AdminApp::EventLogPage</name>
    <message>
        <source>C&amp;lear</source>
        <translation>&amp;Leeren</translation>
    </message>
    <message>
        <source>Filter events (name, socket, arguments…)</source>
        <translation>Ereignisse filtern (Name, Socket, Argumente…)</translation>
    </message>
    <message>
        <source>Select an event to see its arguments.</source>
        <translation>Wählen Sie ein Ereignis, um seine Argumente zu sehen.</translation>
    </message>
    <message>
        <source>&amp;Resume (%1 pending)</source>
        <translation>&amp;Fortsetzen (%1 wartend)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Anhalten</translation>
    </message>
</context>
<context>
    <name>AdminApp::HandlersModel</name>
    <message>
        <source>Namespace</source>
        <translation>Namensraum</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Ereignis</translation>
    </message>
    <message>
        <source>Registered with</source>
        <translation>Registriert mit</translation>
    </message>
</context>
<context>
    <name>AdminApp::HandlersPage</name>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Transports</source>
        <translation>Transporte</translation>
    </message>
    <message>
        <source>Mount</source>
        <translation>Einhängepunkt</translation>
    </message>
    <message>
        <source>Event handlers</source>
        <translation>Ereignis-Handler</translation>
    </message>
    <message>
        <source>Routes</source>
        <translation>Routen</translation>
    </message>
</context>
<context>
    <name>AdminApp::MainWindow</name>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Verbinde erneut…</translation>
    </message>
    <message>
        <source>Read-only</source>
        <translation>Schreibgeschützt</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>Ü&amp;bersicht</translation>
    </message>
    <message>
        <source>&amp;Connections</source>
        <translation>&amp;Verbindungen</translation>
    </message>
    <message>
        <source>&amp;Rooms</source>
        <translation>&amp;Räume</translation>
    </message>
    <message>
        <source>&amp;Handlers</source>
        <translation>&amp;Handler</translation>
    </message>
    <message>
        <source>&amp;Event Log</source>
        <translation>&amp;Ereignisprotokoll</translation>
    </message>
    <message>
        <source>The server accepts no commands: actions are disabled.</source>
        <translation>Der Server nimmt keine Befehle an: Aktionen sind deaktiviert.</translation>
    </message>
    <message>
        <source>The connection to %1 is lost. Reconnecting…</source>
        <translation>Die Verbindung zu %1 ist unterbrochen. Verbinde erneut…</translation>
    </message>
    <message>
        <source>The connection to %1 is lost (%2). Reconnecting…</source>
        <translation>Die Verbindung zu %1 ist unterbrochen (%2). Verbinde erneut…</translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation>Getrennt: %1</translation>
    </message>
    <message>
        <source>Cannot connect to %1: %2. Retrying…</source>
        <translation>Verbindung zu %1 nicht möglich: %2. Neuer Versuch…</translation>
    </message>
    <message>
        <source>Cannot connect to %1: %2</source>
        <translation>Verbindung zu %1 nicht möglich: %2</translation>
    </message>
    <message>
        <source>&amp;Connect…</source>
        <translation>&amp;Verbinden…</translation>
    </message>
    <message>
        <source>Connect to a server</source>
        <translation>Mit einem Server verbinden</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Trennen</translation>
    </message>
    <message>
        <source>Close the connection to the server</source>
        <translation>Die Verbindung zum Server schließen</translation>
    </message>
    <message>
        <source>&amp;Emit…</source>
        <translation>&amp;Senden…</translation>
    </message>
    <message>
        <source>Emit an event to sockets of the server</source>
        <translation>Ein Ereignis an Sockets des Servers senden</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;About QSocketIo Admin</source>
        <translation>Ü&amp;ber QSocketIo Admin</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Server</source>
        <translation>&amp;Server</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Haupt</translation>
    </message>
    <message>
        <source>Emitted “%1” to %2</source>
        <translation>„%1“ an %2 gesendet</translation>
    </message>
    <message>
        <source> · production mode (aggregates only)</source>
        <translation> · Produktionsmodus (nur Summen)</translation>
    </message>
    <message>
        <source>QSocketIo Admin</source>
        <translation>QSocketIo Admin</translation>
    </message>
    <message>
        <source>%1 — QSocketIo Admin</source>
        <translation>%1 — QSocketIo Admin</translation>
    </message>
    <message>
        <source>About QSocketIo Admin</source>
        <translation>Über QSocketIo Admin</translation>
    </message>
    <message>
        <source>&lt;h3&gt;QSocketIo Admin %1&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;QSocketIo Admin %1&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>Monitors and commands Socket.IO servers through the Socket.IO Admin UI protocol: servers, sockets, rooms, handlers and events.&lt;br&gt;&lt;br&gt;Built with Qt %1.</source>
        <translation>Überwacht und steuert Socket.IO-Server über das Protokoll der Socket.IO Admin UI: Server, Sockets, Räume, Handler und Ereignisse.&lt;br&gt;&lt;br&gt;Erstellt mit Qt %1.</translation>
    </message>
</context>
<context>
    <name>AdminApp::RoomsModel</name>
    <message>
        <source>The private room of socket %1</source>
        <translation>Der eigene Raum von Socket %1</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>Mitglieder</translation>
    </message>
</context>
<context>
    <name>AdminApp::RoomsPage</name>
    <message>
        <source>&amp;Leave Room</source>
        <translation>Raum &amp;verlassen</translation>
    </message>
    <message>
        <source>The selected member leaves the room</source>
        <translation>Das ausgewählte Mitglied verlässt den Raum</translation>
    </message>
    <message>
        <source>&amp;Clear Room</source>
        <translation>Raum &amp;leeren</translation>
    </message>
    <message>
        <source>Every socket of the namespace leaves the selected room</source>
        <translation>Jeder Socket des Namensraums verlässt den ausgewählten Raum</translation>
    </message>
    <message>
        <source>&amp;Disconnect All in Room</source>
        <translation>&amp;Alle im Raum trennen</translation>
    </message>
    <message>
        <source>Disconnect every socket in the selected room</source>
        <translation>Jeden Socket im ausgewählten Raum trennen</translation>
    </message>
    <message>
        <source>Disconnect All in Room</source>
        <translation>Alle im Raum trennen</translation>
    </message>
    <message>
        <source>Disconnect every socket in room “%1” of namespace %2?</source>
        <translation>Jeden Socket im Raum „%1“ des Namensraums %2 trennen?</translation>
    </message>
</context>
<context>
    <name>AdminApp::ServerCard</name>
    <message>
        <source>%1 d %2</source>
        <translation>%1 T %2</translation>
    </message>
    <message>
        <source>Clients</source>
        <translation>Clients</translation>
    </message>
    <message>
        <source>Polling clients</source>
        <translation>Polling-Clients</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Laufzeit</translation>
    </message>
    <message>
        <source>Polling</source>
        <translation>Polling</translation>
    </message>
    <message>
        <source>In</source>
        <translation>Ein</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>Aus</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>clients</source>
        <translation>Clients</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>Datenverkehr</translation>
    </message>
    <message>
        <source>bytes/s</source>
        <translation>Bytes/s</translation>
    </message>
    <message>
        <source>pid %1</source>
        <translation>PID %1</translation>
    </message>
    <message>
        <source>Healthy</source>
        <translation>Gesund</translation>
    </message>
    <message>
        <source>No news for %1 s</source>
        <translation>Seit %1 s keine Meldung</translation>
    </message>
    <message>
        <source>Last statistics: %1</source>
        <translation>Letzte Statistik: %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <source>Namespaces (sockets):</source>
        <translation>Namensräume (Sockets):</translation>
    </message>
</context>
<context>
    <name>AdminApp::ServersModel</name>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T %2 h</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>ja</translation>
    </message>
    <message>
        <source>no</source>
        <translation>nein</translation>
    </message>
    <message numerus="yes">
        <source>No statistics for more than %n seconds</source>
        <translation>
            <numerusform>Seit mehr als %n Sekunde keine Statistik</numerusform>
            <numerusform>Seit mehr als %n Sekunden keine Statistik</numerusform>
        </translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>Host name</source>
        <translation>Hostname</translation>
    </message>
    <message>
        <source>PID</source>
        <translation>PID</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Laufzeit</translation>
    </message>
    <message>
        <source>Clients</source>
        <translation>Clients</translation>
    </message>
    <message>
        <source>Polling clients</source>
        <translation>Polling-Clients</translation>
    </message>
    <message>
        <source>Namespaces</source>
        <translation>Namensräume</translation>
    </message>
    <message>
        <source>Last seen</source>
        <translation>Zuletzt gesehen</translation>
    </message>
    <message>
        <source>Healthy</source>
        <translation>Gesund</translation>
    </message>
</context>
<context>
    <name>AdminApp::SocketsModel</name>
    <message>
        <source>Socket ID</source>
        <translation>Socket-ID</translation>
    </message>
    <message>
        <source>Client ID</source>
        <translation>Client-ID</translation>
    </message>
    <message>
        <source>Namespace</source>
        <translation>Namensraum</translation>
    </message>
    <message>
        <source>Transport</source>
        <translation>Transport</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>Rooms</source>
        <translation>Räume</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>Verbunden seit</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Daten</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Monitors and commands Socket.IO servers through the Admin UI protocol.</source>
        <translation>Überwacht und steuert Socket.IO-Server über das Admin-UI-Protokoll.</translation>
    </message>
    <message>
        <source>Server URL, e.g. http://localhost:3000.</source>
        <translation>Server-URL, z. B. http://localhost:3000.</translation>
    </message>
    <message>
        <source>Socket.IO path (default /socket.io/).</source>
        <translation>Socket.IO-Pfad (Vorgabe /socket.io/).</translation>
    </message>
    <message>
        <source>Admin namespace (default /admin).</source>
        <translation>Admin-Namensraum (Vorgabe /admin).</translation>
    </message>
    <message>
        <source>User name; the password comes from the QSOCKETIO_PASSWORD variable.</source>
        <translation>Benutzername; das Passwort kommt aus der Variablen QSOCKETIO_PASSWORD.</translation>
    </message>
    <message>
        <source>Use WebSocket only, no long-polling.</source>
        <translation>Nur WebSocket verwenden, kein Long-Polling.</translation>
    </message>
    <message>
        <source>Language of the interface: de, fr or en.</source>
        <translation>Sprache der Oberfläche: de, fr oder en.</translation>
    </message>
    <message>
        <source>Connect at start, without the connect dialog.</source>
        <translation>Beim Start ohne Verbindungsdialog verbinden.</translation>
    </message>
</context>
</TS>
