using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Presence.Server.Hosting;

/// <summary>
/// A private PostgreSQL cluster run from the installed binaries: what the server uses when no connection string is
/// configured, and what the tests run against. It listens on 127.0.0.1 only, with a password generated at
/// initdb and kept beside the data folder, so the data survives restarts.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string SuperUser = "presence";
    public const string RootDataDirectory = "/var/lib/presence/postgres";

    private const string MaintenanceDatabase = "postgres";
    private const int PortAttempts = 3;
    // sun_path holds 108 bytes; PostgreSQL adds "/.s.PGSQL.<port>" to the socket folder.
    private const int MaxSocketPath = 107;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private readonly PostgresBinaries _binaries;
    private readonly PostgresCommandRunner _runner;
    private readonly ILogger _logger;
    private readonly string _password;
    private readonly int? _postmasterPid;
    private readonly bool _attached;
    private readonly Lock _gate = new();
    private Task? _stopping;

    private EmbeddedPostgres(PostgresBinaries binaries, PostgresCommandRunner runner, ILogger logger, string dataDirectory,
        int port, string password, bool attached = false)
    {
        _attached = attached;
        _binaries = binaries;
        _runner = runner;
        _logger = logger;
        DataDirectory = dataDirectory;
        Port = port;
        _password = password;
        _postmasterPid = PostgresDataFolder.ReadPostmasterPid(dataDirectory);
        ConnectionString = ConnectionStringFor(MaintenanceDatabase);
    }

    /// <summary>Connection string for the options' database (<c>presence</c> by default).</summary>
    public string ConnectionString { get; private set; }

    public int Port { get; }

    public string DataDirectory { get; }

    /// <summary>True when this handle joined a cluster another process started; stopping it then leaves that cluster running.</summary>
    public bool Attached => _attached;

    /// <summary>
    /// Where the server keeps its cluster: <c>/var/lib/presence/postgres</c> as root (the <c>postgres</c> user
    /// cannot reach /root), otherwise under the user's local application data.
    /// </summary>
    public static string DefaultDataDirectory() =>
        PostgresCommandRunner.IsRoot()
            ? RootDataDirectory
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "presence", "postgres");

    /// <summary>Initialises the cluster if its folder is new, starts it, and creates the database if missing.</summary>
    /// <exception cref="PostgresNotFoundException">No PostgreSQL binaries were found.</exception>
    /// <exception cref="EmbeddedPostgresException">The cluster could not be prepared or did not come up.</exception>
    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger? logger = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory);
        ValidateDatabaseName(options.Database);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, IPEndPoint.MaxPort);
        logger ??= NullLogger.Instance;
        var clock = Stopwatch.StartNew();

        var binaries = PostgresBinaries.Locate(options.BinDirectory, logger);
        var runner = PostgresCommandRunner.ForCurrentUser();
        var dataDirectory = DataFolderOf(options.DataDirectory);

        await PrepareDataDirectoryAsync(dataDirectory, runner, ct).ConfigureAwait(false);
        var initialised = File.Exists(Path.Combine(dataDirectory, "PG_VERSION"));
        var passwordFile = PasswordFileOf(dataDirectory);
        var password = await ReadOrCreatePasswordAsync(passwordFile, dataDirectory, initialised, runner, ct).ConfigureAwait(false);
        if (initialised)
        {
            await StopAbandonedAsync(dataDirectory, binaries, runner, logger, ct).ConfigureAwait(false);
        }
        else
        {
            logger.LogInformation("Initialising a PostgreSQL cluster in {DataDirectory} with {BinDirectory}", dataDirectory, binaries.BinDirectory);
            List<string> initdb =
            [
                "-D", dataDirectory, "-U", SuperUser, "--pwfile=" + passwordFile,
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C",
            ];
            if (!options.Durable)
                initdb.Add("--no-sync");
            await runner.RunAsPostgresAsync(binaries.InitDb, initdb, ct: ct).ConfigureAwait(false);
        }
        PostgresDataFolder.RotateLog(dataDirectory);

        var port = await StartPostmasterAsync(options, dataDirectory, binaries, runner, clock, ct).ConfigureAwait(false);
        var postgres = new EmbeddedPostgres(binaries, runner, logger, dataDirectory, port, password);
        try
        {
            await postgres.WaitUntilReadyAsync(options.StartTimeout - clock.Elapsed, ct).ConfigureAwait(false);
            await postgres.CompressWithLz4Async(ct).ConfigureAwait(false);
            postgres.ConnectionString = await postgres.CreateDatabaseAsync(options.Database, ct).ConfigureAwait(false);
        }
        catch
        {
            await postgres.StopQuietlyAsync("immediate").ConfigureAwait(false);
            throw;
        }
        logger.LogInformation("PostgreSQL is ready on 127.0.0.1:{Port} (data in {DataDirectory}, {Elapsed} ms)",
            port, dataDirectory, clock.ElapsedMilliseconds);
        return postgres;
    }

    /// <summary>
    /// Like <see cref="StartAsync"/>, except that a cluster already running on the folder is joined rather than
    /// stopped: StartAsync takes a running postmaster for the leftover of a crashed run, which would pull the
    /// database from under a Presence server running in another terminal. A joined cluster is left running on stop.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartOrAttachAsync(EmbeddedPostgresOptions options, ILogger? logger = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory);
        ValidateDatabaseName(options.Database);
        logger ??= NullLogger.Instance;
        var dataDirectory = DataFolderOf(options.DataDirectory);
        var passwordFile = PasswordFileOf(dataDirectory);
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid")) || !PostgresDataFolder.IsOurPostmasterRunning(dataDirectory)
            || PostgresDataFolder.ReadPostmasterPort(dataDirectory) is not { } port || !File.Exists(passwordFile))
        {
            return await StartAsync(options, logger, ct).ConfigureAwait(false);
        }

        var password = (await File.ReadAllTextAsync(passwordFile, ct).ConfigureAwait(false)).Trim();
        var binaries = PostgresBinaries.Locate(options.BinDirectory, logger);
        var postgres = new EmbeddedPostgres(binaries, PostgresCommandRunner.ForCurrentUser(), logger, dataDirectory, port, password, attached: true);
        await postgres.WaitUntilReadyAsync(options.StartTimeout, ct).ConfigureAwait(false);
        postgres.ConnectionString = await postgres.CreateDatabaseAsync(options.Database, ct).ConfigureAwait(false);
        logger.LogInformation("Joined the PostgreSQL already running on 127.0.0.1:{Port} (data in {DataDirectory})", port, dataDirectory);
        return postgres;
    }

    /// <summary>
    /// Stops a postmaster that an earlier, crashed run left on <paramref name="dataDirectory"/>, and clears a stale
    /// postmaster.pid. Does nothing when no cluster runs there. StartAsync does this itself.
    /// </summary>
    public static Task StopAbandonedAsync(string dataDirectory, string? binDirectory = null, ILogger? logger = null,
        CancellationToken ct = default)
    {
        logger ??= NullLogger.Instance;
        var full = DataFolderOf(dataDirectory);
        if (!File.Exists(Path.Combine(full, "postmaster.pid")))
            return Task.CompletedTask;
        return StopAbandonedAsync(full, PostgresBinaries.Locate(binDirectory, logger), PostgresCommandRunner.ForCurrentUser(), logger, ct);
    }

    /// <summary>Creates the database if it does not exist, and returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        ValidateDatabaseName(name);
        await using var connection = await OpenMaintenanceConnectionAsync(ct).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = name });
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
                return ConnectionStringFor(name);
        }
        try
        {
            await using var create = new NpgsqlCommand($"create database {QuoteIdentifier(name)}", connection);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            _logger.LogInformation("Created database {Database}", name);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another caller created it between our check and our create: that is the outcome we wanted.
        }
        return ConnectionStringFor(name);
    }

    /// <summary>
    /// Large values (a saga's document is ~5 KB in a 50-computer house, more in an office) are compressed with lz4
    /// rather than PostgreSQL's default pglz, whose compression was most of what a saga's upsert cost: with the
    /// house's own sagas, upserting them from their JSON ran 22-29 % more transactions a second with lz4 (pgbench,
    /// 8 clients, same cluster, alternated). Stored values keep theirs; both read alike. Only where the binaries
    /// were built with lz4 (Debian's are); otherwise pglz stays, as before.
    /// </summary>
    private async Task CompressWithLz4Async(CancellationToken ct)
    {
        await using var connection = await OpenMaintenanceConnectionAsync(ct).ConfigureAwait(false);
        await using (var check = new NpgsqlCommand(
                         "select setting <> 'lz4' and 'lz4' = any(enumvals) from pg_settings where name = 'default_toast_compression'", connection))
        {
            if (await check.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                return;
        }
        // ALTER SYSTEM keeps it in the data folder's postgresql.auto.conf. The reload reaches the sessions a moment
        // later (a signal): waited for, so every write after the start is compressed so.
        await using (var set = new NpgsqlCommand("alter system set default_toast_compression = 'lz4'; select pg_reload_conf()", connection))
            await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await using var show = new NpgsqlCommand("show default_toast_compression", connection);
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(5) && await show.ExecuteScalarAsync(ct).ConfigureAwait(false) is not "lz4";)
            await Task.Delay(10, ct).ConfigureAwait(false);
        _logger.LogInformation("PostgreSQL in {DataDirectory} now compresses large values with lz4", DataDirectory);
    }

    /// <summary>Drops the database if it exists. Fails with SQL state 55006 while anyone is connected to it.</summary>
    public async Task DropDatabaseAsync(string name, CancellationToken ct = default)
    {
        ValidateDatabaseName(name);
        await using var connection = await OpenMaintenanceConnectionAsync(ct).ConfigureAwait(false);
        await using var drop = new NpgsqlCommand($"drop database if exists {QuoteIdentifier(name)}", connection);
        await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        _logger.LogInformation("Dropped database {Database}", name);
    }

    /// <summary>
    /// Stops the cluster (fast shutdown: open sessions are ended), unless this handle only joined it. Safe to call
    /// more than once.
    /// </summary>
    public Task StopAsync()
    {
        if (_attached)
            return Task.CompletedTask;
        lock (_gate)
            return _stopping ??= StopCoreAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync()
    {
        var current = PostgresDataFolder.ReadPostmasterPid(DataDirectory);
        if (current is null || (_postmasterPid is not null && current != _postmasterPid))
        {
            // Already down, or a later StartAsync on this folder replaced our postmaster: that one is not ours to stop.
            _logger.LogDebug("PostgreSQL in {DataDirectory} is no longer the one we started; leaving it", DataDirectory);
            return;
        }
        _logger.LogInformation("Stopping PostgreSQL in {DataDirectory}", DataDirectory);
        await _runner.RunAsPostgresAsync(_binaries.PgCtl,
            ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", Seconds(StopTimeout)]).ConfigureAwait(false);
    }

    private async Task StopQuietlyAsync(string mode)
    {
        try
        {
            await _runner.RunAsPostgresAsync(_binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", mode, "-w"], check: false)
                .ConfigureAwait(false);
        }
        catch (EmbeddedPostgresException e)
        {
            _logger.LogWarning(e, "Could not stop PostgreSQL in {DataDirectory}", DataDirectory);
        }
    }

    private static async Task<int> StartPostmasterAsync(EmbeddedPostgresOptions options, string dataDirectory,
        PostgresBinaries binaries, PostgresCommandRunner runner, Stopwatch clock, CancellationToken ct)
    {
        var logFile = Path.Combine(dataDirectory, PostgresDataFolder.LogFileName);
        // An over-long socket path stops the postmaster; nothing of ours needs the socket, only psql users might.
        var socketDirectory = dataDirectory.Length + "/.s.PGSQL.65535".Length <= MaxSocketPath ? dataDirectory : "";
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : PostgresDataFolder.FreeLoopbackPort();
            var logStart = PostgresDataFolder.LogLength(logFile);
            var serverOptions = $"-c listen_addresses=127.0.0.1 -p {port} " +
                                $"-c unix_socket_directories={PostgresCommandRunner.ShellQuote(socketDirectory)}" +
                                (options.Durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            var remaining = options.StartTimeout - clock.Elapsed;
            CommandResult result;
            try
            {
                result = await runner.RunAsPostgresAsync(binaries.PgCtl,
                    ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", Seconds(remaining), "-o", serverOptions],
                    check: false, ct: ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // pg_ctl detaches the postmaster, so killing pg_ctl leaves it running.
                await runner.RunAsPostgresAsync(binaries.PgCtl, ["stop", "-D", dataDirectory, "-m", "immediate", "-w"], check: false)
                    .ConfigureAwait(false);
                throw;
            }
            if (result.Succeeded)
                return port;

            var log = PostgresDataFolder.ReadLog(logFile, logStart);
            // After a timeout the postmaster may still be coming up; do not leave it behind.
            await runner.RunAsPostgresAsync(binaries.PgCtl, ["stop", "-D", dataDirectory, "-m", "immediate", "-w"], check: false, ct: ct)
                .ConfigureAwait(false);
            // Another program may take the free port between our probe and the postmaster's bind.
            if (options.Port == 0 && attempt < PortAttempts && log.Contains("Address already in use", StringComparison.Ordinal))
                continue;
            throw new EmbeddedPostgresException(
                $"PostgreSQL did not start in {dataDirectory}: {PostgresCommandRunner.Describe(result)}{PostgresDataFolder.LogSection(logFile, log)}");
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        // pg_ctl -w has already seen the postmaster accept connections; this proves our address and password work.
        var clock = Stopwatch.StartNew();
        var logFile = Path.Combine(DataDirectory, PostgresDataFolder.LogFileName);
        while (true)
        {
            try
            {
                await using var connection = await OpenMaintenanceConnectionAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
            {
                throw new EmbeddedPostgresException(
                    $"PostgreSQL in {DataDirectory} rejected user {SuperUser} with the password in {PasswordFileOf(DataDirectory)}: {e.MessageText}", e);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException && !ct.IsCancellationRequested)
            {
                if (clock.Elapsed >= timeout)
                {
                    throw new EmbeddedPostgresException(
                        $"PostgreSQL in {DataDirectory} did not accept connections on 127.0.0.1:{Port} within the start timeout: {e.Message}" +
                        PostgresDataFolder.LogSection(logFile, PostgresDataFolder.ReadLog(logFile, 0)), e);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<NpgsqlConnection> OpenMaintenanceConnectionAsync(CancellationToken ct)
    {
        // Unpooled: a pool would keep sessions open in the postgres database, and those block CREATE DATABASE's template copy.
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStringFor(MaintenanceDatabase)) { Pooling = false, Timeout = 5 };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = Port,
            Username = SuperUser,
            Password = _password,
            Database = database,
            // A cluster of its own on loopback speaks neither: by default each new connection first asks for GSS
            // encryption, which loads the Kerberos libraries into the server (1 MB resident) for nothing.
            GssEncryptionMode = GssEncryptionMode.Disable,
            SslMode = SslMode.Disable,
        }.ConnectionString;

    /// <summary>A data folder this process cannot create or write, named with the system's reason.</summary>
    internal static EmbeddedPostgresException FolderUnusable(string dataDirectory, Exception e) =>
        new($"the private PostgreSQL's data folder {dataDirectory} cannot be used ({e.Message.TrimEnd('.')}): " +
            "set Database:DataDirectory to a folder this user may create and write", e);

    private static async Task PrepareDataDirectoryAsync(string dataDirectory, PostgresCommandRunner runner, CancellationToken ct)
    {
        try
        {
            await CreateDataDirectoryAsync(dataDirectory, runner, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FolderUnusable(dataDirectory, e);
        }
    }

    private static async Task CreateDataDirectoryAsync(string dataDirectory, PostgresCommandRunner runner, CancellationToken ct)
    {
        if (!runner.AsServiceUser || OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDirectory);
            return;
        }

        // As root we create the folders and PostgreSQL runs as postgres: the parents we make must let it through
        // whatever root's umask is, and the data folder must be its own.
        var missing = new Stack<string>();
        for (var dir = dataDirectory; dir is not null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
            missing.Push(dir);
        while (missing.TryPop(out var dir))
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, dir == dataDirectory ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : Traversable);
        }
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
            await ChownToServiceUserAsync(dataDirectory, ct).ConfigureAwait(false);

        var reachable = await runner.RunAsPostgresAsync("test", ["-w", dataDirectory, "-a", "-x", dataDirectory], check: false, ct: ct)
            .ConfigureAwait(false);
        if (!reachable.Succeeded)
        {
            throw new EmbeddedPostgresException(
                $"Running as root, PostgreSQL runs as the '{PostgresCommandRunner.ServiceUser}' user, which cannot reach {dataDirectory} " +
                $"(a parent folder such as /root is private to root): use a data folder it can reach, such as {RootDataDirectory}.");
        }
    }

    private const UnixFileMode Traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                             UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                                             UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static Task ChownToServiceUserAsync(string path, CancellationToken ct) =>
        // "user:" gives the user's login group, whatever the distribution names it.
        PostgresCommandRunner.RunAsync("chown", [PostgresCommandRunner.ServiceUser + ":", path], ct: ct);

    private static string PasswordFileOf(string dataDirectory) => dataDirectory + ".password";

    /// <summary>The data folder as the cluster's files name it: absolute, without a trailing separator.</summary>
    internal static string DataFolderOf(string dataDirectory) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));

    private static async Task<string> ReadOrCreatePasswordAsync(string passwordFile, string dataDirectory, bool initialised,
        PostgresCommandRunner runner, CancellationToken ct)
    {
        if (File.Exists(passwordFile))
        {
            var existing = (await File.ReadAllTextAsync(passwordFile, ct).ConfigureAwait(false)).Trim();
            if (existing.Length > 0)
                return existing;
        }
        if (initialised)
        {
            throw new EmbeddedPostgresException(
                $"{dataDirectory} holds a PostgreSQL cluster but its password file {passwordFile} is missing or empty: " +
                $"restore that file, or delete {dataDirectory} to start with an empty database.");
        }

        // Hex: nothing a connection string or pwfile could misread.
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(passwordFile, fileOptions))
        await using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
            await writer.WriteLineAsync(password.AsMemory(), ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // initdb reads it as the postgres user; root can read it whoever owns it.
        if (runner.AsServiceUser)
            await ChownToServiceUserAsync(passwordFile, ct).ConfigureAwait(false);
        return password;
    }

    private static async Task StopAbandonedAsync(string dataDirectory, PostgresBinaries binaries, PostgresCommandRunner runner,
        ILogger logger, CancellationToken ct)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
            return;
        if (!PostgresDataFolder.IsOurPostmasterRunning(dataDirectory))
        {
            // Its process is gone (or the pid now belongs to another program): PostgreSQL would refuse to start
            // on a lock file naming a live process, and it is never right to signal that process.
            logger.LogInformation("Removing stale {PidFile}", pidFile);
            File.Delete(pidFile);
            return;
        }
        logger.LogWarning("PostgreSQL from an earlier run still runs on {DataDirectory} (pid {Pid}); stopping it",
            dataDirectory, PostgresDataFolder.ReadPostmasterPid(dataDirectory));
        await runner.RunAsPostgresAsync(binaries.PgCtl, ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", Seconds(StopTimeout)], ct: ct)
            .ConfigureAwait(false);
    }

    private static string Seconds(TimeSpan span) => Math.Max(1, (int)Math.Ceiling(span.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void ValidateDatabaseName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (Encoding.UTF8.GetByteCount(name) > 63 || name.Contains('\0'))
            throw new ArgumentException($"'{name}' is not a PostgreSQL database name (at most 63 bytes, no NUL).", nameof(name));
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
