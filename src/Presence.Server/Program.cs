using Presence.Server.Configuration;
using Presence.Server.Demo;
using Presence.Server.Hosting;

// Presence server: `dotnet run --project src/Presence.Server` with no settings runs an embedded MQTT broker and a
// private PostgreSQL, so a fresh machine needs nothing but the .NET SDK and PostgreSQL's binaries.
if (args is [DemoCommand.Verb, .. var demoArgs])
{
    return await DemoCommand.RunAsync(demoArgs, Console.Out);
}

EmbeddedPostgres? postgres = null;
try
{
    var builder = PresenceApp.CreateBuilder(args);
    var (_, _, _, database) = PresenceApp.ReadSettings(builder.Configuration);

    var connectionString = builder.Configuration.GetConnectionString("Presence");
    if (string.IsNullOrWhiteSpace(connectionString))
    {
        var dataDirectory = database.DataDirectory ?? EmbeddedPostgres.DefaultDataDirectory();
        Console.WriteLine($"No ConnectionStrings:Presence: starting a private PostgreSQL in {dataDirectory}");
        postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dataDirectory, BinDirectory = database.BinDirectory });
        connectionString = postgres.ConnectionString;
    }

    PresenceApp.ConfigureServices(builder, connectionString);
    var app = builder.Build();
    PresenceApp.MapEndpoints(app);
    await app.RunAsync();
    return 0;
}
catch (PostgresNotFoundException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}
catch (StartupException e)
{
    Console.Error.WriteLine($"presence: {e.Message}");
    return 2;
}
catch (FormatException e)
{
    Console.Error.WriteLine($"presence: {e.Message}");
    return 2;
}
finally
{
    if (postgres is not null)
    {
        await postgres.DisposeAsync();
    }
}
