using Npgsql;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Demo;

/// <summary>What the command line asked of the demo: the house settings and the demo's own flags.</summary>
public sealed record DemoRequest(IReadOnlyList<string> Settings, string? Speed = null, string? Story = null, string? Export = null);

/// <summary>
/// `dotnet run --project src/Presence.Server -- demo`: a private PostgreSQL (or the configured one), the server,
/// one simulated agent per computer, and the house's story told against them, in about a minute.
/// </summary>
public static class DemoCommand
{
    public const string Verb = "demo";

    /// <summary>The demo's own database (private cluster) or schema (configured connection string), emptied at each start.</summary>
    public const string DemoDatabase = "presence_demo";

    public static async Task<int> RunAsync(DemoRequest request, TextWriter output)
    {
        using var interrupted = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            // The first Ctrl+C stops everything in order; a second one is left to end the process at once.
            if (!interrupted.IsCancellationRequested)
            {
                e.Cancel = true;
                output.WriteLine();
                output.WriteLine("Stopping: agents, server, PostgreSQL…");
                interrupted.Cancel();
            }
        }

        Console.CancelKeyPress += OnCancel;
        EmbeddedPostgres? postgres = null;
        var ct = interrupted.Token;
        try
        {
            var (settings, speed, storyName, export) = request;
            var story = DemoStories.Named(storyName ?? DemoStories.Day.Name);
            var builder = PresenceApp.CreateBuilder([.. settings]);
            builder.Configuration.AddInMemoryCollection(story.House);
            if (speed is not null)
            {
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"{DemoOptions.Section}:Speed"] = speed });
            }

            var (_, _, _, database) = PresenceApp.ReadSettings(builder.Configuration);
            DemoOptions.Read(builder.Configuration);
            output.WriteLine("Presence demo: the house's story against simulated agents, over the real MQTT broker and event store.");

            var connectionString = builder.Configuration.GetConnectionString("Presence");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                var dataDirectory = database.DataDirectory ?? EmbeddedPostgres.DefaultDataDirectory();
                postgres = await EmbeddedPostgres.StartOrAttachAsync(
                    new EmbeddedPostgresOptions { DataDirectory = dataDirectory, BinDirectory = database.BinDirectory, Database = "postgres" },
                    ct: ct);
                connectionString = await RecreateDatabaseAsync(postgres, ct);
                output.WriteLine(postgres.Attached
                    ? $"  PostgreSQL: joined the private cluster already running in {dataDirectory} (a Presence server?); database {DemoDatabase}, emptied"
                    : $"  PostgreSQL: private cluster in {dataDirectory}; database {DemoDatabase}, emptied");
            }
            else
            {
                await DropSchemasAsync(connectionString, ct);
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"{DatabaseOptions.Section}:Schema"] = DemoDatabase });
                output.WriteLine($"  PostgreSQL: ConnectionStrings:Presence, schema {DemoDatabase}, emptied");
            }

            await using var house = await DemoHouse.StartAsync(builder, connectionString, output, ct, story.Morning);
            await house.PlayAsync(story.Script(house.Options.Speed), ct);
            await house.PrintSummaryAsync(ct);
            if (export is not null)
            {
                foreach (var path in await house.ExportAsync(export, story.Name, story.Users, ct))
                {
                    output.WriteLine($"  history written: {path}");
                }
            }

            return 0;
        }
        catch (OperationCanceledException)
        {
            output.WriteLine("Interrupted; everything it started is stopped.");
            return 130;
        }
        catch (PostgresNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
        catch (Exception e) when (e is StartupException or FormatException or EmbeddedPostgresException)
        {
            Console.Error.WriteLine($"presence demo: {e.Message}");
            return 2;
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            Console.CancelKeyPress -= OnCancel;
        }
    }

    private static async Task<string> RecreateDatabaseAsync(EmbeddedPostgres postgres, CancellationToken ct)
    {
        try
        {
            await postgres.DropDatabaseAsync(DemoDatabase, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
        {
            throw new StartupException($"database {DemoDatabase} is in use; is another demo running? ({e.MessageText})");
        }

        return await postgres.CreateDatabaseAsync(DemoDatabase, ct);
    }

    private static async Task DropSchemasAsync(string connectionString, CancellationToken ct)
    {
        // Wolverine keeps its tables beside Marten's, in "<schema>_messages" (see PresenceApp).
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var drop = new NpgsqlCommand(
            $"drop schema if exists \"{DemoDatabase}\" cascade; drop schema if exists \"{DemoDatabase}_messages\" cascade", connection);
        await drop.ExecuteNonQueryAsync(ct);
    }
}
