using System.Text.Json;
using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Processes;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;

namespace Presence.Agent.Sensors;

/// <summary>
/// Runs the enabled sensors, each in its own poll loop at its configured interval, and publishes what changed
/// as contract signals on <c>{root}/hosts/{host}/signals/{kind}</c>, each with a fresh <c>id</c> and <c>at</c>.
/// An observation counts as published only once the broker took it, so one made while the broker is away
/// goes out on a later poll. A sensor whose source is missing logs that once and stays quiet until it returns.
/// </summary>
public sealed class SensorHub : IAsyncDisposable
{
    private readonly string host;
    private readonly Topics topics;
    private readonly IReadOnlyList<(IHostSensor Sensor, TimeSpan Interval)> sensors;
    private readonly Func<string, byte[], Task<bool>> publish;
    private readonly Func<Signal, Task> observed;
    private readonly IClock clock;
    private readonly ILogger logger;
    private readonly Dictionary<string, string> published = new(StringComparer.Ordinal);
    private readonly HashSet<string> missing = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private Task loops = Task.CompletedTask;

    /// <param name="publish">Publishes one payload to one topic; true when the broker took it.</param>
    /// <param name="observed">Told about every signal published, so the agent can act on it too (power in its inventory).</param>
    public SensorHub(
        string host,
        Topics topics,
        IEnumerable<(IHostSensor Sensor, TimeSpan Interval)> sensors,
        Func<string, byte[], Task<bool>> publish,
        Func<Signal, Task> observed,
        IClock clock,
        ILogger logger)
    {
        this.host = host;
        this.topics = topics;
        this.sensors = sensors.ToList();
        this.publish = publish;
        this.observed = observed;
        this.clock = clock;
        this.logger = logger;
    }

    /// <summary>The sensors <paramref name="options"/> switches on; none off Linux, where their sources do not exist.</summary>
    public static IReadOnlyList<(IHostSensor Sensor, TimeSpan Interval)> Enabled(
        SensorOptions options, ICommandRunner runner, IClock clock, ILogger logger, bool? linux = null)
    {
        var all = new (SensorSwitch Switch, Func<IHostSensor> Create)[]
        {
            (options.Logind, () => new LogindSensor(runner, options.LoginctlPath, clock)),
            (options.Lid, () => new LidSensor(new SystemFiles(options.Root))),
            (options.Wifi, () => new WifiSensor(runner, options.NmcliPath)),
            (options.Power, () => new PowerSensor(new SystemFiles(options.Root))),
        };
        var enabled = all.Where(s => s.Switch.Enabled).Select(s => (s.Create(), s.Switch.Interval)).ToList();
        if (enabled.Count > 0 && !(linux ?? OperatingSystem.IsLinux()))
        {
            logger.LogInformation("Local sensors read logind, /proc and /sys, which only Linux has; none run here");
            return [];
        }

        return enabled;
    }

    public void Start()
    {
        loops = Task.WhenAll(sensors.Select(s => Task.Run(() => LoopAsync(s.Sensor, s.Interval), CancellationToken.None)));
    }

    /// <summary>Reads one sensor once and publishes what changed. The poll loops call this; tests call it directly.</summary>
    public async Task PollAsync(IHostSensor sensor, CancellationToken cancellationToken)
    {
        var reading = await sensor.ReadAsync(cancellationToken);
        lock (gate)
        {
            if (reading.Unavailable is { } reason)
            {
                if (missing.Add(sensor.Name))
                {
                    logger.LogInformation("Sensor {Sensor} has nothing to read and stays quiet: {Reason}", sensor.Name, reason);
                }

                return;
            }

            if (missing.Remove(sensor.Name))
            {
                logger.LogInformation("Sensor {Sensor} has its source again", sensor.Name);
            }
        }

        foreach (var observation in reading.Observations)
        {
            var fingerprint = observation.Fingerprint ?? Encoding(observation.Signal);
            lock (gate)
            {
                if (published.TryGetValue(observation.Key, out var last) && last == fingerprint)
                {
                    continue;
                }
            }

            var signal = observation.Signal with { Id = Guid.NewGuid().ToString("N"), At = clock.GetCurrentInstant() };
            if (!await publish(topics.Signal(host, signal.Kind), Serialize(signal)))
            {
                continue;
            }

            lock (gate)
            {
                published[observation.Key] = fingerprint;
            }

            logger.LogInformation("Signal {Kind}: {Payload}", signal.Kind, Encoding(observation.Signal));
            await observed(signal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
        }

        await loops;
    }

    /// <summary>The contract payload: the concrete signal's fields, snake_case, as <see cref="Signal.Parse"/> reads them.</summary>
    public static byte[] Serialize(Signal signal) => JsonSerializer.SerializeToUtf8Bytes(signal, signal.GetType(), ContractJson.Options);

    private static string Encoding(Signal signal) => System.Text.Encoding.UTF8.GetString(Serialize(signal));

    private async Task LoopAsync(IHostSensor sensor, TimeSpan interval)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await PollAsync(sensor, stopping.Token);
                await Task.Delay(interval, stopping.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Sensor {Sensor} failed: {Reason}", sensor.Name, e.Message);
                try
                {
                    await Task.Delay(interval, stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
