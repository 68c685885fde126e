using Presence.Server.Hosting;

// Presence server: `dotnet run --project src/Presence.Server` with no settings runs an embedded MQTT broker and a
// private PostgreSQL, so a fresh machine needs nothing but the .NET SDK and PostgreSQL's binaries. Every verb
// (demo, explain, replay, db-apply…) goes through the one command line.
return await ServerCommandLine.RunAsync(args);
