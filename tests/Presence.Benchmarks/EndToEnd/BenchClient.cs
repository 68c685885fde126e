using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using NodaTime.Text;
using Presence.Contracts.Agents;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// A message as it arrived: when by the stopwatch and the wall clock (for the events' recorded times), and for a signed
/// command when the server signed it (its issued_at: as it left the outbound queue for the broker).
/// </summary>
public sealed record Arrival(string Topic, string Payload, long Timestamp, DateTime Utc, DateTime? Signed = null)
{
    public JsonElement Json => JsonDocument.Parse(Payload).RootElement;
}

/// <summary>
/// A plain MQTT client: a computer publishing its signals (connected as that computer, which a loopback broker admits
/// without a password), or a watcher of the agents' command topics, stamping each message as it arrives.
/// </summary>
public sealed class BenchClient : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly List<Arrival> arrivals = [];
    private readonly List<(int From, Func<Arrival, bool> Match, TaskCompletionSource<Arrival> Done)> waiters = [];

    private BenchClient()
    {
        client.ApplicationMessageReceivedAsync += e =>
        {
            var arrival = new Arrival(e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()),
                Stopwatch.GetTimestamp(), DateTime.UtcNow, SignedAt(e.ApplicationMessage));
            lock (arrivals)
            {
                arrivals.Add(arrival);
                for (var i = waiters.Count - 1; i >= 0; i--)
                {
                    if (waiters[i].Match(arrival))
                    {
                        waiters[i].Done.TrySetResult(arrival);
                        waiters.RemoveAt(i);
                    }
                }
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>How many messages arrived so far: a mark to wait for one after.</summary>
    public int Count { get { lock (arrivals) return arrivals.Count; } }

    public static async Task<BenchClient> ConnectAsync(int port, string clientId, string userName, params string[] subscriptions)
    {
        var bench = new BenchClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithCredentials(userName, "")
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .Build();
        var result = await bench.client.ConnectAsync(options);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            bench.client.Dispose();
            throw new InvalidOperationException($"the broker refused {userName} ({clientId}): {result.ResultCode} {result.ReasonString}");
        }

        foreach (var topic in subscriptions)
        {
            await bench.client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return bench;
    }

    /// <summary>
    /// The benchmark's own MQTT paths run a few times before anything is timed, through a throwaway broker of this
    /// process on loopback: a signal published, and a command received with user properties (where the server puts
    /// its signature), stamped and matched as the watcher does. Left cold, they were timed as the server's: the first
    /// login after a start took 45–47 ms with them cold and 35 ms with them warm, the difference in its last stage
    /// (commit → command at the watcher: 27–31 ms against 17), alternated twice (2026-12-07).
    /// </summary>
    public static async Task WarmUpAsync(TimeSpan timeout)
    {
        var port = BenchServer.FreePort();
        using var broker = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(IPAddress.Loopback).WithDefaultEndpointPort(port).Build());
        await broker.StartAsync();
        try
        {
            await using var watcher = await ConnectAsync(port, "warm-watcher", "warm", "warm/+/commands");
            await using var publisher = await ConnectAsync(port, "warm-publisher", "warm");
            for (var i = 0; i < 3; i++)
            {
                var mark = watcher.Count;
                await publisher.PublishAsync("warm/seat/signals/session", """{"id":"warm","user":"warm","state":"login","seat":"console"}""");
                await publisher.PublishAsync("warm/seat/commands", """{"command_id":"warm","type":"attach_display","vm":"warm"}""",
                    [("signature", "warm-signature-of-about-the-length-of-a-real-one"), ("issued_at", "2026-12-07T12:00:00Z")]);
                await watcher.WaitForAsync(mark, a => a.Topic == "warm/seat/commands" && a.Json.GetProperty("type").GetString() == "attach_display",
                    timeout, "the benchmark's own warm-up message");
            }
        }
        finally
        {
            await broker.StopAsync(new MqttServerStopOptions());
        }
    }

    /// <summary>Publishes at QoS 1 and returns once the broker has acknowledged it.</summary>
    public async Task PublishAsync(string topic, string json, IReadOnlyList<(string Name, string Value)>? properties = null)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(json)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        foreach (var (name, value) in properties ?? [])
        {
            message.WithUserProperty(name, Encoding.UTF8.GetBytes(value));
        }

        var result = await client.PublishAsync(message.Build());
        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"the broker did not take {topic}: {result.ReasonCode} {result.ReasonString}");
        }
    }

    /// <summary>The first message from the <paramref name="mark"/>-th on that matches; fails naming <paramref name="what"/> after the timeout.</summary>
    public async Task<Arrival> WaitForAsync(int mark, Func<Arrival, bool> match, TimeSpan timeout, string what)
    {
        var done = new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (arrivals)
        {
            for (var i = mark; i < arrivals.Count; i++)
            {
                if (match(arrivals[i])) return arrivals[i];
            }

            waiters.Add((mark, match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (arrivals) waiters.RemoveAll(w => w.Done == done);
            throw new TimeoutException($"no {what} within {timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The command's signed issued_at (CommandSignature), read as the agent reads it; null on anything unsigned.</summary>
    private static DateTime? SignedAt(MqttApplicationMessage message) =>
        message.UserProperties?.FirstOrDefault(p => p.Name == CommandSignature.IssuedAtProperty)?.ReadValueAsString() is { } at
        && InstantPattern.ExtendedIso.Parse(at) is { Success: true } parsed
            ? parsed.Value.ToDateTimeUtc()
            : null;

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        client.Dispose();
    }
}
