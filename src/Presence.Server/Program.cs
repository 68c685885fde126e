using Presence.Server.Demo;
using Presence.Server.Hosting;

// Presence server: `dotnet run --project src/Presence.Server` with no settings runs an embedded MQTT broker and a
// private PostgreSQL, so a fresh machine needs nothing but the .NET SDK and PostgreSQL's binaries.
// The demo takes free-form house overrides JasperFx would reject, so it is dispatched before the command line.
if (args is [DemoCommand.Verb, .. var demoArgs])
{
    return await DemoCommand.RunAsync(demoArgs, Console.Out);
}

return await ServerCommandLine.RunAsync(args);
