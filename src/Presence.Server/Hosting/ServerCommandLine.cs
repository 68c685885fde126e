using JasperFx;
using Marten;
using Spectre.Console;
using Presence.Server.Configuration;

namespace Presence.Server.Hosting;

/// <summary>
/// The server's command line is JasperFx's, the one Marten and Wolverine add their verbs to (db-apply, projections,
/// codegen…), with Presence's own (explain, history, state, schema, demo). With no verb it runs the server, exactly
/// as before. House settings — `--config file` and `--Key=value` overrides — are taken out first and go to every
/// verb's configuration, because JasperFx would reject them as unknown flags.
/// </summary>
public static class ServerCommandLine
{
    /// <summary>Verbs that never touch the database: they get a connection string that is never opened.</summary>
    /// <remarks>The demo opens its own database (presence_demo), emptied at each start.</remarks>
    private static readonly HashSet<string> WithoutDatabase = ["help", "?", "schema", "demo", "codegen"];

    /// <summary>Verbs whose stdout is their answer alone (they write it with Console, not through JasperFx's console).</summary>
    private static readonly HashSet<string> AnswerVerbs = ["explain", "history", "state", "schema", "replay", "export", "import", "server-key", "enroll", "revoke"];

    private const string Unopened = "Host=127.0.0.1;Port=1;Database=presence_unopened";

    public static async Task<int> RunAsync(string[] args)
    {
        var (settings, verb) = Split(args);
        // JasperFx's help for a verb is `help <verb>`; `<verb> --help` is what people type, and JasperFx rejects it.
        // JasperFx ends `help <verb>` with exit code 1; asked for help, the help is the success.
        var askedForHelp = verb.Any(IsHelp);
        if (askedForHelp)
        {
            verb = verb[0].StartsWith('-') ? ["help"] : ["help", verb[0]];
        }

        EmbeddedPostgres? postgres = null;
        ServerLock? serverLock = null;
        string? connectionString = null;
        try
        {
            var builder = PresenceApp.CreateBuilder(settings);
            var (_, _, _, database) = PresenceApp.ReadSettings(builder.Configuration);

            connectionString = ConnectionStringOf(builder.Configuration);
            // A replay of a history file decides from the file alone.
            var fromFile = verb is ["replay", ..] && verb.Contains("--history");
            var needsDatabase = verb.Length == 0 || !(WithoutDatabase.Contains(verb[0].ToLowerInvariant()) || verb.Any(IsHelp) || fromFile);
            if (!needsDatabase)
            {
                connectionString = Unopened;
            }
            else if (string.IsNullOrWhiteSpace(connectionString))
            {
                var dataDirectory = database.DataDirectory ?? EmbeddedPostgres.DefaultDataDirectory();
                var options = new EmbeddedPostgresOptions { DataDirectory = dataDirectory, BinDirectory = database.BinDirectory };
                if (verb.Length == 0 || verb[0] == "run")
                {
                    // Before the cluster is touched: starting takes a running postmaster for a crashed run's leftover.
                    serverLock = ServerLock.Take(dataDirectory);
                    Console.WriteLine($"No ConnectionStrings:Presence: starting a private PostgreSQL in {dataDirectory}");
                    postgres = await EmbeddedPostgres.StartAsync(options);
                }
                else
                {
                    // A verb beside a running server must join its cluster, not stop it as a crashed run's leftover.
                    await Console.Error.WriteLineAsync($"No ConnectionStrings:Presence: using the private PostgreSQL in {dataDirectory}");
                    postgres = await EmbeddedPostgres.StartOrAttachAsync(options);
                }

                connectionString = postgres.ConnectionString;
            }

            PresenceApp.ConfigureServices(builder, connectionString!);
            if (verb is ["codegen", ..])
            {
                builder.Services.WriteGeneratedCodeTo(GeneratedCode.CheckoutFolder());
            }

            if (verb.Length > 0 && (verb.Contains("--json") || AnswerVerbs.Contains(verb[0])))
            {
                // A verb's answer is all of stdout; what the stack logs meanwhile (Wolverine starting for a write) goes to stderr.
                builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            }

            // A verb that builds a house of its own (the demo) gets the same settings the command line was given.
            builder.Services.AddSingleton(new HouseArguments(settings));
            var app = builder.Build();
            PresenceApp.MapEndpoints(app);
            if (verb.Length == 0)
            {
                await app.RunAsync();
                return 0;
            }

            if (verb.Contains("--json") || AnswerVerbs.Contains(verb[0]))
            {
                // JasperFx talks while it looks for commands; an answer on stdout must be all there is, for jq and scripts.
                AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            }

            if (needsDatabase && !verb[0].StartsWith("db-", StringComparison.Ordinal) && verb[0] != "resources")
            {
                // A verb does not start the host, so Marten's apply-at-start does not run for it, and nothing is
                // created lazily either (AutoCreate.None): a verb on a fresh database (import, explain) applies the
                // schema first. The db-* and resources verbs are about exactly that and keep their own say.
                await app.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            }

            QuietCommandDiscovery();
            var exit = await app.RunJasperFxCommands(verb);
            return askedForHelp ? 0 : CommandExit.Code ?? exit;
        }
        catch (PostgresNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
        catch (Exception e) when (Refusal(e, postgres?.DataDirectory, connectionString) is { } refusal)
        {
            Console.Error.WriteLine($"presence: {refusal.Message}");
            return refusal.ExitCode;
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }

            serverLock?.Dispose();
        }
    }

    /// <summary>
    /// What a start or a verb that cannot go ahead says, in one line, and its exit code (2: a setting to change, 3: the
    /// database cannot be used); null for anything else, which stays a crash with its stack trace.
    /// </summary>
    private static (string Message, int ExitCode)? Refusal(Exception e, string? privateDataDirectory, string? connectionString) => e switch
    {
        // Its messages name the folder, the reason and PostgreSQL's log.
        EmbeddedPostgresException => (e.Message, 3),
        StartupException or FormatException => (e.Message, 2),
        // Kestrel's bind failure: another web server on 8080, or a Presence already running.
        IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException } => (HttpAddressTaken(e.Message), 2),
        // A PostgreSQL of one's own that is away, or a wrong host, port or password; never the password.
        Npgsql.NpgsqlException npgsql => (PostgresUnreachable(privateDataDirectory, connectionString, npgsql), 3),
        _ => null,
    };

    /// <summary>ConnectionStrings:Presence, refused as a setting when PostgreSQL's client cannot read it.</summary>
    private static string? ConnectionStringOf(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Presence");
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return connectionString;
        }
        catch (ArgumentException e)
        {
            throw new StartupException($"invalid settings:\n  ConnectionStrings:Presence is not a PostgreSQL connection string: {e.Message}");
        }
    }

    /// <summary>Where the server tried to reach PostgreSQL (never the password) and why it could not.</summary>
    internal static string PostgresUnreachable(string? privateDataDirectory, string? connectionString, Npgsql.NpgsqlException e)
    {
        var why = (e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message)
            .TrimEnd('.');
        if (privateDataDirectory is not null)
        {
            var log = Path.Combine(privateDataDirectory, PostgresDataFolder.LogFileName);
            return $"the private PostgreSQL in {privateDataDirectory} cannot be used: {why}; its log is {log}";
        }

        var at = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL at {at.Host}:{at.Port}, database '{at.Database}' as '{at.Username}' (ConnectionStrings:Presence) cannot be used: " +
            $"{why}; check that it runs and the connection string's host, port, user and password";
    }

    /// <summary>What to do when HTTP cannot bind, from Kestrel's "Failed to bind to address URL: address already in use."</summary>
    internal static string HttpAddressTaken(string kestrel)
    {
        var match = System.Text.RegularExpressions.Regex.Match(kestrel, @"^Failed to bind to address (\S+): address already in use");
        var address = match.Success ? match.Groups[1].Value : "its address";
        return $"HTTP cannot listen on {address}: the address is already in use (another web server, or Presence already running); " +
            "set Urls to a free address, e.g. --Urls=http://127.0.0.1:8081";
    }

    /// <summary>
    /// Separates the house's settings (`--config file`, `--config=file`, and `--Key=value` where the key starts with
    /// a capital or has a colon, as .NET configuration keys do) from the verb and its flags (lower case by JasperFx's
    /// convention: --json, --since, --at).
    /// </summary>
    public static (string[] Settings, string[] Verb) Split(string[] args)
    {
        var settings = new List<string>();
        var verb = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--config" && i + 1 < args.Length)
            {
                settings.Add(arg);
                settings.Add(args[++i]);
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal) || IsConfigurationKey(arg))
            {
                settings.Add(arg);
            }
            else
            {
                verb.Add(arg);
            }
        }

        return (settings.ToArray(), verb.ToArray());
    }

    private static bool IsConfigurationKey(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (!arg.StartsWith("--", StringComparison.Ordinal) || eq < 3)
        {
            return false;
        }

        var key = arg[2..eq];
        return char.IsUpper(key[0]) || key.Contains(':', StringComparison.Ordinal);
    }

    /// <summary>
    /// JasperFx prints "Searching '&lt;assembly&gt;' for commands" for every assembly it scans, before each verb's
    /// answer, until extensions were applied once in the process; applying none here flips that latch, so a verb
    /// prints its answer alone. Marten's and Wolverine's verbs are still found: the scan itself is unchanged.
    /// </summary>
    private static void QuietCommandDiscovery() => new JasperFx.CommandLine.CommandFactory().ApplyExtensions(new ServiceCollection());

    private static bool IsHelp(string arg) => arg is "--help" or "-h" or "-?";
}

/// <summary>The house settings given on the command line (`--config file`, `--Key=value`), for a verb that builds its own host.</summary>
public sealed record HouseArguments(IReadOnlyList<string> Settings);
