<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>AdminApp::BroadcastDialog</name>
    <message>
        <source>C&amp;lear</source>
        <translation>&amp;Effacer</translation>
    </message>
    <message>
        <source>Emit an Event</source>
        <translation>Émettre un événement</translation>
    </message>
    <message>
        <source>All sockets of the namespace</source>
        <translation>Tous les sockets de l’espace de noms</translation>
    </message>
    <message>
        <source>Sockets in a room</source>
        <translation>Les sockets d’un salon</translation>
    </message>
    <message>
        <source>One socket</source>
        <translation>Un seul socket</translation>
    </message>
    <message>
        <source>event name</source>
        <translation>nom de l’événement</translation>
    </message>
    <message>
        <source>[&quot;hello&quot;, {&quot;count&quot;: 1}]  or one value, e.g. {&quot;a&quot;: 1}</source>
        <translation>[&quot;bonjour&quot;, {&quot;count&quot;: 1}]  ou une seule valeur, p. ex. {&quot;a&quot;: 1}</translation>
    </message>
    <message>
        <source>no file</source>
        <translation>aucun fichier</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Parcourir…</translation>
    </message>
    <message>
        <source>&amp;Namespace:</source>
        <translation>&amp;Espace de noms :</translation>
    </message>
    <message>
        <source>&amp;To:</source>
        <translation>&amp;À :</translation>
    </message>
    <message>
        <source>&amp;Event:</source>
        <translation>É&amp;vénement :</translation>
    </message>
    <message>
        <source>&amp;Arguments (JSON):</source>
        <translation>&amp;Arguments (JSON) :</translation>
    </message>
    <message>
        <source>Binary &amp;file:</source>
        <translation>&amp;Fichier binaire :</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Envoyer</translation>
    </message>
    <message>
        <source>Sent as one more argument, binary (%1 bytes)</source>
        <translation>Envoyé comme argument supplémentaire, binaire (%1 octets)</translation>
    </message>
    <message>
        <source>Enter an event name.</source>
        <translation>Saisissez un nom d’événement.</translation>
    </message>
    <message>
        <source>Enter a room.</source>
        <translation>Saisissez un salon.</translation>
    </message>
    <message>
        <source>Enter a socket id.</source>
        <translation>Saisissez un identifiant de socket.</translation>
    </message>
    <message>
        <source>Attach a File</source>
        <translation>Joindre un fichier</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>Impossible de lire %1 : %2</translation>
    </message>
    <message>
        <source>Not sent: the connection is down or the server is read-only.</source>
        <translation>Non envoyé : la connexion est coupée ou le serveur est en lecture seule.</translation>
    </message>
    <message>
        <source>Invalid JSON at line %1, column %2 (offset %3): %4</source>
        <translation>JSON invalide ligne %1, colonne %2 (position %3) : %4</translation>
    </message>
    <message>
        <source>Several values: write the arguments as one JSON array, [first, second]</source>
        <translation>Plusieurs valeurs : écrivez les arguments comme un seul tableau JSON, [premier, second]</translation>
    </message>
    <message>
        <source>The file %1 does not exist.</source>
        <translation>Le fichier %1 n’existe pas.</translation>
    </message>
    <message>
        <source>%1 is not a regular file.</source>
        <translation>%1 n’est pas un fichier ordinaire.</translation>
    </message>
    <message>
        <source>The file is too big (%1): the server takes at most %2 in one message.</source>
        <translation>Le fichier est trop volumineux (%1) : le serveur accepte au plus %2 par message.</translation>
    </message>
</context>
<context>
    <name>AdminApp::ConnectDialog</name>
    <message>
        <source>&amp;WebSocket only (no long-polling)</source>
        <translation>&amp;WebSocket uniquement (sans long-polling)</translation>
    </message>
    <message>
        <source>&amp;Ignore TLS certificate errors</source>
        <translation>&amp;Ignorer les erreurs de certificat TLS</translation>
    </message>
    <message>
        <source>Connect to a Socket.IO Server</source>
        <translation>Se connecter à un serveur Socket.IO</translation>
    </message>
    <message>
        <source>Accept self-signed certificates. For development servers only.</source>
        <translation>Accepter les certificats auto-signés. Pour les serveurs de développement uniquement.</translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation>&amp;URL du serveur :</translation>
    </message>
    <message>
        <source>&amp;Path:</source>
        <translation>&amp;Chemin :</translation>
    </message>
    <message>
        <source>Admin &amp;namespace:</source>
        <translation>&amp;Espace de noms d’administration :</translation>
    </message>
    <message>
        <source>User&amp;name:</source>
        <translation>&amp;Nom d’utilisateur :</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>&amp;Mot de passe :</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Connecter</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>facultatif</translation>
    </message>
</context>
<context>
    <name>AdminApp::ConnectionsPage</name>
    <message>
        <source>Filter sockets (id, address, room, data…)</source>
        <translation>Filtrer les sockets (id, adresse, salon, données…)</translation>
    </message>
    <message>
        <source>Select a socket to see its data and handshake.</source>
        <translation>Sélectionnez un socket pour voir ses données et sa poignée de main.</translation>
    </message>
    <message>
        <source>The server runs in production mode: it reports no individual sockets.</source>
        <translation>Le serveur fonctionne en mode production : il ne signale aucun socket individuel.</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Déconnecter</translation>
    </message>
    <message>
        <source>Disconnect the selected sockets from their namespace</source>
        <translation>Déconnecter les sockets sélectionnés de leur espace de noms</translation>
    </message>
    <message>
        <source>Disconnect and &amp;Close Connection</source>
        <translation>Déconnecter et &amp;fermer la connexion</translation>
    </message>
    <message>
        <source>Disconnect the selected sockets and close their Engine.IO connections</source>
        <translation>Déconnecter les sockets sélectionnés et fermer leurs connexions Engine.IO</translation>
    </message>
    <message>
        <source>&amp;Join Room…</source>
        <translation>&amp;Rejoindre un salon…</translation>
    </message>
    <message>
        <source>Make the selected sockets join a room</source>
        <translation>Faire rejoindre un salon aux sockets sélectionnés</translation>
    </message>
    <message>
        <source>&amp;Leave Room…</source>
        <translation>&amp;Quitter un salon…</translation>
    </message>
    <message>
        <source>Make the selected sockets leave a room</source>
        <translation>Faire quitter un salon aux sockets sélectionnés</translation>
    </message>
    <message>
        <source>&amp;Emit to Socket…</source>
        <translation>Émettre vers le &amp;socket…</translation>
    </message>
    <message>
        <source>Sockets shown: %1 of %2</source>
        <translation>Sockets affichés : %1 sur %2</translation>
    </message>
    <message>
        <source>All namespaces</source>
        <translation>Tous les espaces de noms</translation>
    </message>
    <message>
        <source>Join Room</source>
        <translation>Rejoindre un salon</translation>
    </message>
    <message>
        <source>Room the selected sockets join:</source>
        <translation>Salon que rejoignent les sockets sélectionnés :</translation>
    </message>
    <message>
        <source>Leave Room</source>
        <translation>Quitter un salon</translation>
    </message>
    <message>
        <source>Room the selected sockets leave:</source>
        <translation>Salon que quittent les sockets sélectionnés :</translation>
    </message>
</context>
<context>
    <name>AdminApp::DashboardPage</name>
    <message>
        <source>Waiting for the first statistics…</source>
        <translation>En attente des premières statistiques…</translation>
    </message>
    <message>
        <source>Not connected. Use Connect… to pick a server.</source>
        <translation>Non connecté. Utilisez « Connecter… » pour choisir un serveur.</translation>
    </message>
    <message>
        <source>Servers: %1 · Clients: %2</source>
        <translation>Serveurs : %1 · Clients : %2</translation>
    </message>
</context>
<context>
    <name>AdminApp::EventLogModel</name>
    <message numerus="yes">
        <source>&lt;binary %n bytes&gt;</source>
        <translation>
            <numerusform>&lt;binaire, %n octet&gt;</numerusform>
            <numerusform>&lt;binaire, %n octets&gt;</numerusform>
        </translation>
    </message>
    <message>
        <source>received</source>
        <translation>reçu</translation>
    </message>
    <message>
        <source>sent</source>
        <translation>envoyé</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Heure</translation>
    </message>
    <message>
        <source>Direction</source>
        <translation>Sens</translation>
    </message>
    <message>
        <source>Namespace</source>
        <translation>Espace de noms</translation>
    </message>
    <message>
        <source>Socket ID</source>
        <translation>ID du socket</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Événement</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>Arguments</translation>
    </message>
</context>
<context>
    <name>AdminApp::EventLogPage</name>
    <message>
        <source>C&amp;lear</source>
        <translation>&amp;Effacer</translation>
    </message>
    <message>
        <source>Filter events (name, socket, arguments…)</source>
        <translation>Filtrer les événements (nom, socket, arguments…)</translation>
    </message>
    <message>
        <source>Select an event to see its arguments.</source>
        <translation>Sélectionnez un événement pour voir ses arguments.</translation>
    </message>
    <message>
        <source>&amp;Resume (%1 pending)</source>
        <translation>&amp;Reprendre (%1 en attente)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Pause</translation>
    </message>
</context>
<context>
    <name>AdminApp::HandlersModel</name>
    <message>
        <source>Namespace</source>
        <translation>Espace de noms</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Événement</translation>
    </message>
    <message>
        <source>Registered with</source>
        <translation>Enregistré avec</translation>
    </message>
</context>
<context>
    <name>AdminApp::HandlersPage</name>
    <message>
        <source>Path</source>
        <translation>Chemin</translation>
    </message>
    <message>
        <source>Transports</source>
        <translation>Transports</translation>
    </message>
    <message>
        <source>Mount</source>
        <translation>Montage</translation>
    </message>
    <message>
        <source>Event handlers</source>
        <translation>Gestionnaires d’événements</translation>
    </message>
    <message>
        <source>Routes</source>
        <translation>Routes</translation>
    </message>
</context>
<context>
    <name>AdminApp::MainWindow</name>
    <message>
        <source>Disconnected</source>
        <translation>Déconnecté</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Connecté</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Reconnexion…</translation>
    </message>
    <message>
        <source>Read-only</source>
        <translation>Lecture seule</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>&amp;Tableau de bord</translation>
    </message>
    <message>
        <source>&amp;Connections</source>
        <translation>&amp;Connexions</translation>
    </message>
    <message>
        <source>&amp;Rooms</source>
        <translation>&amp;Salons</translation>
    </message>
    <message>
        <source>&amp;Handlers</source>
        <translation>&amp;Gestionnaires</translation>
    </message>
    <message>
        <source>&amp;Event Log</source>
        <translation>&amp;Journal des événements</translation>
    </message>
    <message>
        <source>The server accepts no commands: actions are disabled.</source>
        <translation>Le serveur n’accepte aucune commande : les actions sont désactivées.</translation>
    </message>
    <message>
        <source>The connection to %1 is lost. Reconnecting…</source>
        <translation>La connexion à %1 est perdue. Reconnexion…</translation>
    </message>
    <message>
        <source>The connection to %1 is lost (%2). Reconnecting…</source>
        <translation>La connexion à %1 est perdue (%2). Reconnexion…</translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation>Déconnecté : %1</translation>
    </message>
    <message>
        <source>Cannot connect to %1: %2. Retrying…</source>
        <translation>Impossible de se connecter à %1 : %2. Nouvelle tentative…</translation>
    </message>
    <message>
        <source>Cannot connect to %1: %2</source>
        <translation>Impossible de se connecter à %1 : %2</translation>
    </message>
    <message>
        <source>&amp;Connect…</source>
        <translation>&amp;Connecter…</translation>
    </message>
    <message>
        <source>Connect to a server</source>
        <translation>Se connecter à un serveur</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Déconnecter</translation>
    </message>
    <message>
        <source>Close the connection to the server</source>
        <translation>Fermer la connexion au serveur</translation>
    </message>
    <message>
        <source>&amp;Emit…</source>
        <translation>É&amp;mettre…</translation>
    </message>
    <message>
        <source>Emit an event to sockets of the server</source>
        <translation>Émettre un événement vers des sockets du serveur</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;About QSocketIo Admin</source>
        <translation>À &amp;propos de QSocketIo Admin</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>À propos de &amp;Qt</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>&amp;Server</source>
        <translation>&amp;Serveur</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Aide</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Principale</translation>
    </message>
    <message>
        <source>Emitted “%1” to %2</source>
        <translation>« %1 » émis vers %2</translation>
    </message>
    <message>
        <source> · production mode (aggregates only)</source>
        <translation> · mode production (agrégats uniquement)</translation>
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
        <translation>À propos de QSocketIo Admin</translation>
    </message>
    <message>
        <source>&lt;h3&gt;QSocketIo Admin %1&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;QSocketIo Admin %1&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>Monitors and commands Socket.IO servers through the Socket.IO Admin UI protocol: servers, sockets, rooms, handlers and events.&lt;br&gt;&lt;br&gt;Built with Qt %1.</source>
        <translation>Surveille et commande des serveurs Socket.IO par le protocole de la Socket.IO Admin UI : serveurs, sockets, salons, gestionnaires et événements.&lt;br&gt;&lt;br&gt;Construit avec Qt %1.</translation>
    </message>
</context>
<context>
    <name>AdminApp::RoomsModel</name>
    <message>
        <source>The private room of socket %1</source>
        <translation>Le salon privé du socket %1</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>Membres</translation>
    </message>
</context>
<context>
    <name>AdminApp::RoomsPage</name>
    <message>
        <source>&amp;Leave Room</source>
        <translation>&amp;Quitter le salon</translation>
    </message>
    <message>
        <source>The selected member leaves the room</source>
        <translation>Le membre sélectionné quitte le salon</translation>
    </message>
    <message>
        <source>&amp;Clear Room</source>
        <translation>&amp;Vider le salon</translation>
    </message>
    <message>
        <source>Every socket of the namespace leaves the selected room</source>
        <translation>Chaque socket de l’espace de noms quitte le salon sélectionné</translation>
    </message>
    <message>
        <source>&amp;Disconnect All in Room</source>
        <translation>&amp;Déconnecter tout le salon</translation>
    </message>
    <message>
        <source>Disconnect every socket in the selected room</source>
        <translation>Déconnecter chaque socket du salon sélectionné</translation>
    </message>
    <message>
        <source>Disconnect All in Room</source>
        <translation>Déconnecter tout le salon</translation>
    </message>
    <message>
        <source>Disconnect every socket in room “%1” of namespace %2?</source>
        <translation>Déconnecter chaque socket du salon « %1 » de l’espace de noms %2 ?</translation>
    </message>
</context>
<context>
    <name>AdminApp::ServerCard</name>
    <message>
        <source>%1 d %2</source>
        <translation>%1 j %2</translation>
    </message>
    <message>
        <source>Clients</source>
        <translation>Clients</translation>
    </message>
    <message>
        <source>Polling clients</source>
        <translation>Clients en polling</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Disponibilité</translation>
    </message>
    <message>
        <source>Polling</source>
        <translation>Polling</translation>
    </message>
    <message>
        <source>In</source>
        <translation>Entrant</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>Sortant</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Connexions</translation>
    </message>
    <message>
        <source>clients</source>
        <translation>clients</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>Trafic</translation>
    </message>
    <message>
        <source>bytes/s</source>
        <translation>octets/s</translation>
    </message>
    <message>
        <source>pid %1</source>
        <translation>pid %1</translation>
    </message>
    <message>
        <source>Healthy</source>
        <translation>En bonne santé</translation>
    </message>
    <message>
        <source>No news for %1 s</source>
        <translation>Aucune nouvelle depuis %1 s</translation>
    </message>
    <message>
        <source>Last statistics: %1</source>
        <translation>Dernières statistiques : %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>aucun</translation>
    </message>
    <message>
        <source>Namespaces (sockets):</source>
        <translation>Espaces de noms (sockets) :</translation>
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
        <translation>%1 j %2 h</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>oui</translation>
    </message>
    <message>
        <source>no</source>
        <translation>non</translation>
    </message>
    <message numerus="yes">
        <source>No statistics for more than %n seconds</source>
        <translation>
            <numerusform>Aucune statistique depuis plus de %n seconde</numerusform>
            <numerusform>Aucune statistique depuis plus de %n secondes</numerusform>
        </translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Serveur</translation>
    </message>
    <message>
        <source>Host name</source>
        <translation>Nom d’hôte</translation>
    </message>
    <message>
        <source>PID</source>
        <translation>PID</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>Disponibilité</translation>
    </message>
    <message>
        <source>Clients</source>
        <translation>Clients</translation>
    </message>
    <message>
        <source>Polling clients</source>
        <translation>Clients en polling</translation>
    </message>
    <message>
        <source>Namespaces</source>
        <translation>Espaces de noms</translation>
    </message>
    <message>
        <source>Last seen</source>
        <translation>Vu pour la dernière fois</translation>
    </message>
    <message>
        <source>Healthy</source>
        <translation>En bonne santé</translation>
    </message>
</context>
<context>
    <name>AdminApp::SocketsModel</name>
    <message>
        <source>Socket ID</source>
        <translation>ID du socket</translation>
    </message>
    <message>
        <source>Client ID</source>
        <translation>ID du client</translation>
    </message>
    <message>
        <source>Namespace</source>
        <translation>Espace de noms</translation>
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
        <translation>Salons</translation>
    </message>
    <message>
        <source>Connected since</source>
        <translation>Connecté depuis</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>Données</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Monitors and commands Socket.IO servers through the Admin UI protocol.</source>
        <translation>Surveille et commande des serveurs Socket.IO par le protocole Admin UI.</translation>
    </message>
    <message>
        <source>Server URL, e.g. http://localhost:3000.</source>
        <translation>URL du serveur, p. ex. http://localhost:3000.</translation>
    </message>
    <message>
        <source>Socket.IO path (default /socket.io/).</source>
        <translation>Chemin Socket.IO (par défaut /socket.io/).</translation>
    </message>
    <message>
        <source>Admin namespace (default /admin).</source>
        <translation>Espace de noms d’administration (par défaut /admin).</translation>
    </message>
    <message>
        <source>User name; the password comes from the QSOCKETIO_PASSWORD variable.</source>
        <translation>Nom d’utilisateur ; le mot de passe vient de la variable QSOCKETIO_PASSWORD.</translation>
    </message>
    <message>
        <source>Use WebSocket only, no long-polling.</source>
        <translation>Utiliser uniquement WebSocket, sans long-polling.</translation>
    </message>
    <message>
        <source>Language of the interface: de, fr or en.</source>
        <translation>Langue de l’interface : de, fr ou en.</translation>
    </message>
    <message>
        <source>Connect at start, without the connect dialog.</source>
        <translation>Se connecter au démarrage, sans la boîte de connexion.</translation>
    </message>
</context>
</TS>
