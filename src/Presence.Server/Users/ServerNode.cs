namespace Presence.Server.Users;

/// <summary>
/// Which server decided, stamped on every event it appends (header <c>node</c>): <c>Mqtt:NodeName</c>, by default the
/// machine's name, so two nodes on one database, or a house that moved its server, can tell whose decision it was.
/// </summary>
public sealed record ServerNode(string Name);
