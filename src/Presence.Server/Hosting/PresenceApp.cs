using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using Marten;
using Weasel.Core;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Server.Agents;
using Presence.Server.Audit;
using Presence.Server.Configuration;
using Presence.Server.Dashboard;
using Presence.Server.Health;
using Presence.Server.HomeAssistant;
using Presence.Server.HomeAssistant.Statestream;
using Presence.Server.Identities;
using Presence.Server.Migration;
using Presence.Server.Mqtt;
using Presence.Server.Placement;
using Presence.Server.Replay;
using Presence.Server.Signing;
using Presence.Server.Telemetry;
using Presence.Server.Users;
using Wolverine;
using Wolverine.Marten;

namespace Presence.Server.Hosting;

/// <summary>A house file or option that cannot work; the message names the key or file.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// Builds the server. Program.cs and the integration tests use the same code, so what the tests start is what
/// users run; tests only swap the connection string, ports and clock.
/// </summary>
public static class PresenceApp
{
    public const string ConfigEnvironmentVariable = "PRESENCE_CONFIG";
    public const string OutboundQueue = MqttOutbound.Queue;

    /// <summary>
    /// Reads configuration: the house file (appsettings.json beside the binaries, or the one named by
    /// `--config path` / PRESENCE_CONFIG, which then replaces it), environment variables, then the command line.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var (configPath, rest) = CommandLine.Take(args, "--config");
        configPath ??= Environment.GetEnvironmentVariable(ConfigEnvironmentVariable);
        var builder = ReadingHouseFile(() => WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = rest,
            ContentRootPath = AppContext.BaseDirectory,
        }));

        var sources = builder.Configuration.Sources;
        if (string.IsNullOrWhiteSpace(configPath))
        {
            // The default house file is read through the index too: it is the house file of whoever edits it there.
            foreach (var (json, i) in sources.Select((s, i) => (s as JsonConfigurationSource, i)).Where(x => x.Item1 is not null).ToList())
            {
                ReadingHouseFile(() => sources[i] = IndexedJsonSource.Of(json!));
            }
        }
        else
        {
            var full = Path.GetFullPath(configPath);
            if (!File.Exists(full))
            {
                throw new StartupException($"house file '{full}' (from --config or {ConfigEnvironmentVariable}) does not exist");
            }

            // Another house replaces the default one rather than merging into it: lists such as House:Hosts merge
            // by index, which would leave the default's extra hosts behind.
            var first = sources.Select((s, i) => (s, i)).Where(x => x.s is JsonConfigurationSource).Select(x => x.i).DefaultIfEmpty(0).First();
            foreach (var json in sources.OfType<JsonConfigurationSource>().ToList())
            {
                sources.Remove(json);
            }

            ReadingHouseFile(() => sources.Insert(first, new IndexedJsonSource
            {
                Path = Path.GetFileName(full),
                FileProvider = new PhysicalFileProvider(Path.GetDirectoryName(full)!),
                Optional = false,
                ReloadOnChange = false,
            }));
        }

        return builder;
    }

    /// <summary>
    /// A house file that is not JSON, the commonest slip when editing one by hand, is a settings error that says
    /// where it breaks (the configuration reads the file as the source is added), not a crash with a stack trace.
    /// </summary>
    private static void ReadingHouseFile(Action read) => ReadingHouseFile(() =>
    {
        read();
        return true;
    });

    /// <inheritdoc cref="ReadingHouseFile(Action)"/>
    private static T ReadingHouseFile<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e) when (e.InnerException is FormatException)
        {
            var file = System.Text.RegularExpressions.Regex.Match(e.Message, "'([^']+)'") is { Success: true } m ? m.Groups[1].Value : "the house file";
            var json = e.InnerException.InnerException as System.Text.Json.JsonException;
            var why = json?.Message is { } text ? System.Text.RegularExpressions.Regex.Replace(text, @"\s*LineNumber:.*$", "").TrimEnd('.') : e.InnerException.Message;
            var where = json is { LineNumber: { } line, BytePositionInLine: { } column } ? $" (line {line + 1}, column {column + 1})" : "";
            throw new StartupException($"house file '{file}' is not valid JSON: {why}{where}");
        }
    }

    /// <summary>Binds and validates the house and MQTT settings before anything starts, naming each bad key.</summary>
    public static (HousePolicy Policy, HouseOptions House, MqttOptions Mqtt, DatabaseOptions Database) ReadSettings(IConfiguration configuration)
    {
        // The binder silently drops a list element it cannot convert (a host with Role=Mainframe would vanish),
        // so each element is bound on its own first, where a failure names its key.
        CheckElements<Configuration.HostOptions>(configuration, "House:Hosts");
        CheckElements<UserOptions>(configuration, "House:Users");
        CheckElements<VmOptions>(configuration, "House:Vms");
        var house = Bind<HouseOptions>(configuration, HouseOptions.Section);
        var mqtt = Bind<MqttOptions>(configuration, MqttOptions.Section);
        var database = Bind<DatabaseOptions>(configuration, DatabaseOptions.Section);
        CheckElements<StatestreamEntityOptions>(configuration, StatestreamOptions.Section + ":Entities");
        var statestream = Bind<StatestreamOptions>(configuration, StatestreamOptions.Section);
        var failures = new List<string>();
        if (new HouseValidation().Validate(null, house) is { Failed: true } h)
        {
            failures.AddRange(h.Failures);
        }

        if (new MqttValidation().Validate(null, mqtt) is { Failed: true } m)
        {
            failures.AddRange(m.Failures);
        }

        failures.AddRange(StatestreamValidation.Check(statestream, house, mqtt));
        if (configuration.GetSection("Mqtt:Passwords").GetChildren().Any())
        {
            failures.Add("Mqtt:Passwords is no longer read (plaintext passwords in the house file): remove it and give each computer a secret with " +
                "`dotnet run --project src/Presence.Server -- enroll <host>` (controllers: `enroll <name> --controller`)");
        }

        // Marten, Wolverine and the timeline's rows put it into SQL as it is; Wolverine's tables go in
        // <schema>_messages, and PostgreSQL cuts names at 63 characters.
        if (!System.Text.RegularExpressions.Regex.IsMatch(database.Schema, "^[a-z_][a-z0-9_]{0,53}$"))
        {
            failures.Add($"Database:Schema '{database.Schema}' must be a lower-case PostgreSQL name: a letter or _, then letters, digits or _, " +
                "at most 54 characters");
        }

        var serverName = mqtt.ServerIdentity;
        if (house.Hosts.Any(h => h.Name == serverName))
        {
            failures.Add($"House:Hosts must not name the server's own MQTT identity '{serverName}'");
        }

        if (failures.Count > 0)
        {
            throw new StartupException("invalid settings:\n  " + string.Join("\n  ", failures));
        }

        return (HousePolicyFactory.From(house), house, mqtt, database);
    }

    private static void CheckElements<T>(IConfiguration configuration, string list) where T : new()
    {
        var failures = new List<string>();
        foreach (var element in configuration.GetSection(list).GetChildren())
        {
            try
            {
                element.Get<T>();
            }
            catch (InvalidOperationException e)
            {
                failures.Add(e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})");
            }
        }

        if (failures.Count > 0)
        {
            throw new StartupException("invalid settings:\n  " + string.Join("\n  ", failures));
        }
    }

    internal static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key ("Failed to convert configuration value at 'House:Hosts:0:Role' to type …").
            var allowed = e.InnerException is null ? "" : $" ({e.InnerException.Message})";
            throw new StartupException($"invalid settings:\n  {e.Message}{allowed}");
        }
    }

    /// <summary>Registers everything: options, MQTT bridge, Marten event store, Wolverine handlers and queues.</summary>
    public static void ConfigureServices(WebApplicationBuilder builder, string connectionString, IClock? clock = null)
    {
        var (policy, _, mqtt, database) = ReadSettings(builder.Configuration);
        var services = builder.Services;

        services.AddOptions<HouseOptions>().BindConfiguration(HouseOptions.Section);
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section);
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton<IValidateOptions<HouseOptions>, HouseValidation>();
        services.AddSingleton<IValidateOptions<MqttOptions>, MqttValidation>();
        services.AddSingleton(policy);
        services.AddSingleton(new ServerNode(mqtt.NodeName));

        // The HTTP API speaks the same JSON as the MQTT contract.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
            json.SerializerOptions.ConfigureTime();
        });
        services.AddSingleton(clock ?? SystemClock.Instance);
        // A commit listener too: AddMarten puts every IDocumentCommitListener of the container on the store.
        services.AddSingleton<StoreOutage>();
        services.AddSingleton<JasperFx.Events.Documents.IDocumentCommitListener>(sp => sp.GetRequiredService<StoreOutage>());

        // Under systemd (Type=notify in integrations/linux) the unit is started only once every hosted service is:
        // the database reached, the broker listening, the bridge subscribed. Elsewhere this does nothing.
        services.AddSystemd();
        services.AddHostedService<NativeMemoryTrim>();

        // Each feature registers what it needs (its folder's Configuration.cs). Hosted services start in this order:
        // the dashboard's backfill before the bridge takes signals, the broker before the clients that connect to it.
        services.AddIdentities();
        services.AddDashboard();
        services.AddMqtt();
        services.AddStatestream();
        services.AddPlacement();
        services.AddUsers();
        services.AddHomeAssistant(builder.Configuration);
        services.AddSigning();
        services.AddAgents();
        services.AddHealth();
        services.AddTelemetry(builder.Configuration, mqtt.NodeName);

        services.AddMarten(opts =>
            {
                opts.Connection(KeepingSessions(connectionString));
                opts.DatabaseSchemaName = database.Schema;
                opts.Events.DatabaseSchemaName = database.Schema;
                opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, configure: j => j.ConfigureTime());
                opts.Events.StreamIdentity = StreamIdentity.AsString;
                opts.ConfigureUsers().ConfigureAgents().ConfigureDashboard().ConfigureAudit().ConfigureMqtt().ConfigureSigning().ConfigureIdentities().ConfigureStatestream();
                // The whole schema is created or updated once, at start, before anything is served (below); no lazy
                // per-type check or DDL may run later while a signal waits for it. So every document type the
                // server reads or writes must be registered above (Schema.For or a projection): one that is not
                // fails with "relation does not exist" instead of being created behind a signal's back.
                opts.AutoCreateSchemaObjects = AutoCreate.None;
            })
            // Marten puts this hosted service first, so the schema is in place before the broker, Wolverine and
            // the bridge start.
            .ApplyAllDatabaseChangesOnStartup()
            .IntegrateWithWolverine(i =>
            {
                i.MessageStorageSchemaName = database.Schema + "_messages";
                // Wolverine migrates its envelope tables in its own StartAsync, before anything is served. Left to
                // itself it would take Marten's AutoCreate.None above and refuse to start on a fresh database.
                i.AutoCreate = AutoCreate.CreateOrUpdate;
            })
            .UseLightweightSessions();

        builder.Host.UseWolverine(opts =>
        {
            opts.ApplicationAssembly = typeof(PresenceApp).Assembly;
            // Handlers run from code generated ahead of time and compiled into this assembly
            // (Internal/Generated/WolverineHandlers), never compiled with Roslyn at the first message. After a
            // change to a handler, its middleware or any option below that shapes handler code, regenerate with
            //   rm -rf src/Presence.Server/Internal/Generated && dotnet run --project src/Presence.Server -- codegen write
            // (GeneratedCode.Regenerate); a test fails while the checked-in code is stale.
            opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Static;
            opts.UseSystemTextJsonForSerialization(j => j.ConfigureTime());
            opts.Policies.AutoApplyTransactions();
            opts.Policies.UseDurableLocalQueues();
            opts.RetryStoreTrouble();
            opts.ConfigureUsers().ConfigureMqtt().ConfigureMigration().ConfigurePlacement();
        });

        // After Wolverine's hosted service, so it starts once Wolverine has: the last step before "started".
        services.AddSignalWarmup();
    }

    /// <summary>
    /// The connection string Marten and Wolverine share, with Npgsql's reset on return to the pool turned off. The
    /// reset (DISCARD ALL) also throws away the plans PostgreSQL cached for Marten's append function, which then
    /// planned its statements again in every transaction: 0.75 ms of PostgreSQL's time per append against 0.41 ms
    /// without (statement log of an ingestion run, issue 11 §6). Nothing here leaves session state behind: no SET,
    /// temporary table or LISTEN; Marten's and Wolverine's locks are per transaction or released explicitly.
    /// A statement run a second time on a connection is prepared there (Npgsql's automatic preparation): Marten sends
    /// each as a new unnamed one, which PostgreSQL parsed and planned every time; the saga's upsert took 0.72 ms of
    /// its time per signal, 0.22 ms prepared, in a 500-seat office's burst (+18 % signals/s in alternated runs).
    /// </summary>
    internal static string KeepingSessions(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString)
        {
            NoResetOnClose = true,
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 2,
        }.ConnectionString;

    public static void MapEndpoints(WebApplication app)
    {
        app.MapHealth();
        app.MapPlacement();
        app.MapAuditEndpoints();
        app.MapReplayEndpoints();
        app.MapDashboard();
    }
}
