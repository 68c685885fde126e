using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3): generated bad inputs (a seeded Random; the seed is printed, set PRESENCE_DRILL_SEED to replay)
/// published by a host on topics it may use, through the embedded broker at a running server. Each gets exactly one
/// error on presence/errors naming its topic and the problem (and its id, when it has one that can be read), none is
/// stored, a valid signal between batches is stored within its usual latency, and memory stays bounded.
/// </summary>
[Trait("Category", "Drill")]
[Collection(MeasuredAlone.Name)]
public sealed class bad_inputs_at_a_running_server(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int Count = Drill.Count("PRESENCE_DRILL_BAD_INPUTS", 2000);

    /// <summary>How many bad inputs between two valid signals.</summary>
    private const int Batch = 25;

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task each_gets_one_error_and_the_server_keeps_working()
    {
        var seed = Environment.GetEnvironmentVariable("PRESENCE_DRILL_SEED") is { Length: > 0 } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Environment.TickCount;
        output.WriteLine($"seed {seed} (PRESENCE_DRILL_SEED={seed} replays it), {Count} bad inputs");
        var generator = new BadInputs(new Random(seed));
        await using var errors = await ErrorCounter.StartAsync(server.MqttPort);
        using var imac = new MqttClientFactory().CreateMqttClient();
        await imac.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", server.MqttPort).WithClientId("drill-imac")
            .WithCredentials("imac", "").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(30)).Build());
        var store = new StoredScan(server);

        // Warm up (JIT, connections) before memory is measured.
        await SendValidAsync(imac, store, "valid-warmup");
        var (heapBefore, setBefore) = Memory();

        var latencies = new List<double>();
        var sent = 0;
        var byCategory = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        while (sent < Count)
        {
            foreach (var input in Enumerable.Range(0, Math.Min(Batch, Count - sent)).Select(_ => generator.Next()))
            {
                errors.Expect(input);
                byCategory[input.Category] = byCategory.GetValueOrDefault(input.Category) + 1;
                await imac.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(input.Topic).WithPayload(input.Payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                sent++;
            }

            // The server has answered the batch; a valid signal now shows its latency while under this load.
            await Eventually.TrueAsync(() => Task.FromResult(errors.Total >= sent), $"{sent} errors (have {errors.Total})", TimeSpan.FromSeconds(60));
            latencies.Add(await SendValidAsync(imac, store, $"valid-{sent}"));
        }

        var elapsed = clock.Elapsed;
        // One more valid signal after the last batch: any second answer to a bad input would have come before it.
        latencies.Add(await SendValidAsync(imac, store, "valid-last"));
        await Eventually.TrueAsync(() => Task.FromResult(errors.Total >= sent), "the last errors");
        var (heapAfter, setAfter) = Memory();

        latencies.Sort();
        double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
        output.WriteLine($"{sent} bad inputs sent in {elapsed.TotalSeconds:0.0} s ({string.Join(", ", byCategory.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))})");
        output.WriteLine($"{errors.Total} errors on presence/errors ({errors.WithId} naming the input's id), {errors.Twice.Count} inputs answered twice, " +
                         $"{errors.Wrong.Count} errors not naming the problem, {store.BadStored} bad inputs stored");
        output.WriteLine($"{latencies.Count} valid signals interleaved: stored after p50 {P(0.5):0} ms, p90 {P(0.9):0} ms, p99 {P(0.99):0} ms, max {latencies[^1]:0} ms");
        output.WriteLine($"memory (test process with the in-process server, after a full GC): managed heap {heapBefore / 1e6:0.0} → {heapAfter / 1e6:0.0} MB, " +
                         $"working set {setBefore / 1e6:0.0} → {setAfter / 1e6:0.0} MB");

        Assert.True(errors.Wrong.Count == 0, "errors that do not name the problem:\n" + string.Join("\n", errors.Wrong.Take(20)));
        Assert.True(errors.Unnamed.Count == 0, "errors without the input's id: " + string.Join(", ", errors.Unnamed.Take(20)));
        Assert.True(errors.Twice.IsEmpty, "answered twice: " + string.Join(", ", errors.Twice.Keys.Take(20)));
        Assert.Equal(sent, errors.Total);
        Assert.Equal(0, store.BadStored);
        Assert.True(server.Services.GetRequiredService<Presence.Server.Mqtt.MqttBridge>().IsConnected, "the server's bridge still connected");
        Assert.True(P(0.99) < 2000, $"p99 of valid signals {P(0.99):0} ms, over 2 s");
        Assert.True(heapAfter - heapBefore < 100_000_000, $"managed heap grew by {(heapAfter - heapBefore) / 1e6:0} MB");
    }

    private static async Task<double> SendValidAsync(IMqttClient client, StoredScan store, string id)
    {
        var watch = Stopwatch.StartNew();
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("presence/hosts/imac/signals/idle")
            .WithPayload($$"""{"id":"{{id}}","user":"alice","idle_seconds":5}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await Eventually.TrueAsync(() => store.HasAsync(id), $"valid signal {id} stored");
        return watch.Elapsed.TotalMilliseconds;
    }

    private static (long Heap, long WorkingSet) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        return (heap, self.WorkingSet64);
    }

    /// <summary>Reads the events stored since the last look: the valid signals arrive, and no bad input is ever among them.</summary>
    private sealed class StoredScan(TestServer server)
    {
        private readonly HashSet<string> ids = [];
        private long after;

        public int BadStored { get; private set; }

        public async Task<bool> HasAsync(string id)
        {
            await using var session = server.Store.QuerySession();
            var events = await session.Events.QueryAllRawEvents().Where(e => e.Sequence > after).OrderBy(e => e.Sequence).ToListAsync();
            foreach (var e in events)
            {
                after = Math.Max(after, e.Sequence);
                var json = JsonSerializer.Serialize(e.Data, e.Data.GetType());
                if (json.Contains("\"bad-", StringComparison.Ordinal))
                {
                    BadStored++;
                }

                if (e.Data is SignalRecorded r)
                {
                    ids.Add(r.Evidence.Id);
                }
            }

            return ids.Contains(id);
        }
    }

    /// <summary>Counts what arrives on presence/errors and checks each against what its input expects; keeps little.</summary>
    private sealed class ErrorCounter : IAsyncDisposable
    {
        private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
        private readonly ConcurrentDictionary<string, BadInput> expected = new();
        private readonly ConcurrentDictionary<string, byte> answered = new();
        private int total;
        private int withId;

        public int Total => Volatile.Read(ref total);
        public int WithId => Volatile.Read(ref withId);
        public ConcurrentDictionary<string, byte> Twice { get; } = new();
        public ConcurrentQueue<string> Wrong { get; } = new();

        /// <summary>Inputs with a readable id whose error did not name it.</summary>
        public IReadOnlyList<string> Unnamed => expected.Values.Select(i => $"{i.Category} ({i.Id})").ToList();

        public static async Task<ErrorCounter> StartAsync(int port)
        {
            var counter = new ErrorCounter();
            counter.client.ApplicationMessageReceivedAsync += e =>
            {
                counter.Record(e.ApplicationMessage.Payload.ToArray());
                return Task.CompletedTask;
            };
            await counter.client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("drill-errors")
                .WithCredentials("presence-cli", "").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
            await counter.client.SubscribeAsync("presence/errors", MqttQualityOfServiceLevel.AtLeastOnce);
            return counter;
        }

        public void Expect(BadInput input)
        {
            if (input.Id is not null)
            {
                expected[input.Id] = input with { Payload = [] }; // what to check, not the (up to 1 MB) bytes
            }
        }

        private void Record(byte[] payload)
        {
            Interlocked.Increment(ref total);
            var root = JsonDocument.Parse(payload).RootElement;
            var topic = root.GetProperty("topic").GetString()!;
            var error = root.GetProperty("error").GetString()!;
            if (!root.TryGetProperty("id", out var idElement))
            {
                return;
            }

            var id = idElement.GetString()!;
            Interlocked.Increment(ref withId);
            if (!answered.TryAdd(id, 0))
            {
                Twice[id] = 0;
            }

            if (expected.TryRemove(id, out var input) && (input.Topic != topic || !input.Names.Any(n => error.Contains(n, StringComparison.Ordinal))))
            {
                Wrong.Enqueue($"{input.Category} on {input.Topic}: got '{error}' for topic {topic}, expected one of: {string.Join(" | ", input.Names)}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await client.DisconnectAsync();
            client.Dispose();
        }
    }
}

/// <summary>A generated bad input: its topic and bytes, the id it carries (if readable), and what its error must say (any of).</summary>
public sealed record BadInput(string Category, string Topic, byte[] Payload, string? Id, string[] Names);

/// <summary>The bad inputs of the drill, from a seeded Random; each is bad for one stated reason.</summary>
public sealed class BadInputs(Random random)
{
    private const string Own = "presence/hosts/imac/signals/session";
    private int n;

    public BadInput Next()
    {
        var id = $"bad-{n++}";
        return random.Next(100) switch
        {
            < 12 => Truncated(id),
            < 20 => Nested(id),
            < 34 => WrongType(id),
            < 44 => MissingField(id),
            < 52 => NulBytes(id),
            < 53 => Huge(id),
            < 60 => InvalidUtf8(id),
            < 70 => Skewed(id),
            < 78 => NotAnObject(),
            _ => BadTopic(id),
        };
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private BadInput Truncated(string id)
    {
        var whole = $$"""{"id":"{{id}}","user":"alice","state":"login","seat":"console"}""";
        var keep = $$"""{"id":"{{id}}",""".Length + random.Next(whole.Length - $$"""{"id":"{{id}}",""".Length - 1);
        return new("truncated JSON", Own, Utf8(whole[..keep]), id, ["not valid JSON"]);
    }

    private BadInput Nested(string id)
    {
        var depth = random.Next(65, 5000);
        var payload = $$"""{"id":"{{id}}","user":"alice","state":"login","extra":{{new string('[', depth)}}{{new string(']', depth)}}}""";
        return new("deeply nested JSON", Own, Utf8(payload), id, ["not valid JSON"]);
    }

    private BadInput WrongType(string id) => random.Next(5) switch
    {
        0 => new("wrong type", Own, Utf8($$"""{"id":"{{id}}","user":42,"state":"login"}"""), id, ["'user'"]),
        1 => new("wrong type", Own, Utf8($$"""{"id":"{{id}}","user":"alice","state":true}"""), id, ["'state'"]),
        2 => new("wrong type", "presence/hosts/imac/signals/idle", Utf8($$"""{"id":"{{id}}","user":"alice","idle_seconds":"a while"}"""), id, ["'idle_seconds'"]),
        3 => new("wrong type", "presence/hosts/imac/signals/power", Utf8($$"""{"id":"{{id}}","ac":"yes"}"""), id, ["'ac'"]),
        _ => new("wrong type", Own, Utf8($$"""{"id":{{random.Next()}},"user":"alice","state":"login"}"""), null, ["'id'"]),
    };

    private BadInput MissingField(string id)
    {
        // Unknown fields alone are fine (forward compatible); with a required field missing the input is bad.
        var unknown = $"\"x{random.Next(1000)}\":{{\"deep\":[1,2,{{\"k\":null}}]}}";
        return random.Next(3) switch
        {
            0 => new("unknown fields, required missing", Own, Utf8($$"""{"id":"{{id}}",{{unknown}},"state":"login"}"""), id, ["'user'"]),
            1 => new("unknown fields, required missing", "presence/hosts/imac/signals/lid", Utf8($$"""{"id":"{{id}}",{{unknown}}}"""), id, ["'state'"]),
            _ => new("missing id and required field", "presence/hosts/imac/signals/idle", Utf8($$"""{{{unknown}},"user":"alice"}"""), null, ["'idle_seconds'"]),
        };
    }

    private BadInput NulBytes(string id) => random.Next(2) == 0
        ? new("NUL bytes", Own, [.. Utf8($$"""{"id":"{{id}}","user":"ali"""), 0, .. Utf8("""ce","state":"login"}""")], id, ["not valid JSON"])
        : new("NUL bytes", Own, Utf8($$"""{"id":"{{id}}","user":"ali\u0000ce","state":"login"}"""), id, ["'user'", "user"]);

    private BadInput Huge(string id)
    {
        var pad = new string('x', 1024 * 1024);
        return new("1 MB payload", Own, Utf8($$"""{"id":"{{id}}","user":"alice","state":"login","pad":"{{pad}}"}"""), id, ["bytes; at most"]);
    }

    private BadInput InvalidUtf8(string id) =>
        new("invalid UTF-8", Own, [.. Utf8($$"""{"id":"{{id}}","user":"al"""), 0xC3, 0x28, 0xFF, .. Utf8("""ice","state":"login"}""")], id, ["not valid JSON", "UTF-8"]);

    private BadInput Skewed(string id)
    {
        var minutes = random.Next(6, 60 * 24 * 365 * 10) * (random.Next(2) == 0 ? -1 : 1);
        var at = DateTimeOffset.UtcNow.AddMinutes(minutes).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        return new("skewed at", Own, Utf8($$"""{"id":"{{id}}","user":"alice","state":"login","at":"{{at}}"}"""), id, ["'at'"]);
    }

    private BadInput NotAnObject()
    {
        string[] shapes = ["[]", "\"login\"", "null", "42", "true", "[{\"id\":\"x\"}]", ""];
        return new("not a JSON object", Own, Utf8(shapes[random.Next(shapes.Length)]), null, ["JSON object", "not valid JSON"]);
    }

    private BadInput BadTopic(string id)
    {
        var payload = Utf8($$"""{"id":"{{id}}","user":"alice","state":"login"}""");
        var word = new string(Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)('a' + random.Next(26))).ToArray());
        return random.Next(6) switch
        {
            0 => new("unknown signal kind", $"presence/hosts/imac/signals/{word}", payload, id, [word]),
            1 => new("invalid host in topic", $"presence/hosts/{word.ToUpperInvariant()}/signals/session", payload, id, ["must match"]),
            2 => new("topic not in the contract", $"presence/{word}/imac", payload, id, ["not part of the contract"]),
            3 => new("another host's topic", "presence/hosts/basement/signals/session", payload, id, ["a computer publishes only about itself"]),
            4 => new("server-only topic", "presence/agents/imac/commands", payload, id, ["only the Presence server"]),
            _ => new("host name too long", $"presence/hosts/{new string('h', 64)}/signals/session", payload, id, ["must match"]),
        };
    }
}
