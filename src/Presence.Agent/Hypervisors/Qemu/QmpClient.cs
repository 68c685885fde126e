using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>A QMP command QEMU refused: its error class and description, as QEMU worded them.</summary>
public sealed class QmpException(string errorClass, string description)
    : Exception($"{description} ({errorClass})")
{
    public string ErrorClass { get; } = errorClass;
    public string Description { get; } = description;
}

/// <summary>An asynchronous QMP event (MIGRATION, STOP, RESUME, SHUTDOWN…), kept in arrival order.</summary>
public sealed record QmpEvent(string Name, JsonObject? Data, DateTimeOffset At);

/// <summary>
/// The QEMU Machine Protocol over a unix socket: greeting, <c>qmp_capabilities</c>, then commands with ids.
/// One reader owns the socket so events arriving between replies are kept instead of being mistaken for them.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly NetworkStream stream;
    private readonly StreamReader reader;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> pending = new();
    private readonly ConcurrentQueue<QmpEvent> events = new();
    private readonly CancellationTokenSource closing = new();
    private Task reading = Task.CompletedTask;
    private long nextId;
    private int disposed;
    private volatile Exception? closedBecause;

    private QmpClient(Socket socket)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: true);
        reader = new StreamReader(stream, new UTF8Encoding(false));
    }

    /// <summary>QEMU's version as its greeting told it, e.g. 7.2.22.</summary>
    public string Version { get; private set; } = "";

    public IReadOnlyCollection<QmpEvent> Events => events;

    public event Action<QmpEvent>? EventReceived;

    /// <summary>Raised once when the connection ends, whoever ended it.</summary>
    public event Action? Closed;

    public bool IsConnected => closedBecause is null;

    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new QmpClient(socket);
        try
        {
            var greeting = await client.reader.ReadLineAsync(cancellationToken)
                           ?? throw new IOException($"QMP at {socketPath} closed before its greeting");
            var qmp = JsonNode.Parse(greeting)?["QMP"] ?? throw new IOException($"{socketPath} did not greet like QMP: {greeting}");
            if (qmp["version"]?["qemu"] is JsonObject v)
            {
                client.Version = $"{v["major"]}.{v["minor"]}.{v["micro"]}";
            }

            client.reading = Task.Run(client.ReadLoopAsync);
            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command and returns its <c>return</c> value; QEMU's <c>error</c> becomes a <see cref="QmpException"/>.</summary>
    /// <exception cref="IOException">The connection is gone (QEMU quit or crashed).</exception>
    public async Task<JsonNode?> ExecuteAsync(string command, object? arguments, CancellationToken cancellationToken)
    {
        if (closedBecause is { } closed)
        {
            throw new IOException($"QMP connection closed: {closed.Message}", closed);
        }

        var id = Interlocked.Increment(ref nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            message["arguments"] = arguments as JsonNode ?? JsonSerializer.SerializeToNode(arguments);
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
            await writeGate.WaitAsync(cancellationToken);
            try
            {
                await stream.WriteAsync(bytes, cancellationToken);
            }
            finally
            {
                writeGate.Release();
            }

            // A race with the reader closing: the reply may never come, so the close must be seen here too.
            if (closedBecause is { } gone)
            {
                reply.TrySetException(new IOException($"QMP connection closed: {gone.Message}", gone));
            }

            return await reply.Task.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw new IOException($"QMP connection closed: {e.Message}", e);
        }
        finally
        {
            pending.TryRemove(id, out _);
        }
    }

    public Task<JsonNode?> ExecuteAsync(string command, CancellationToken cancellationToken) => ExecuteAsync(command, null, cancellationToken);

    private async Task ReadLoopAsync()
    {
        Exception why = new IOException("QEMU closed the QMP socket");
        try
        {
            while (await reader.ReadLineAsync(closing.Token) is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                if (JsonNode.Parse(line) is not JsonObject message)
                {
                    continue;
                }

                if (message["event"] is { } name)
                {
                    var at = message["timestamp"] is JsonObject ts
                        ? DateTimeOffset.FromUnixTimeMilliseconds((long)ts["seconds"]! * 1000 + (long)ts["microseconds"]! / 1000)
                        : DateTimeOffset.UtcNow;
                    var received = new QmpEvent((string)name!, message["data"] as JsonObject, at);
                    events.Enqueue(received);
                    EventReceived?.Invoke(received);
                    continue;
                }

                var id = message["id"]?.GetValue<string>();
                if (id is null || !pending.TryGetValue(id, out var reply))
                {
                    continue;
                }

                if (message["error"] is JsonObject error)
                {
                    reply.TrySetException(new QmpException((string?)error["class"] ?? "GenericError", (string?)error["desc"] ?? "unknown error"));
                }
                else
                {
                    reply.TrySetResult(message["return"]?.DeepClone());
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or JsonException)
        {
            why = e;
        }

        closedBecause = why;
        foreach (var reply in pending.Values)
        {
            reply.TrySetException(new IOException($"QMP connection closed: {why.Message}", why));
        }

        Closed?.Invoke();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await closing.CancelAsync();
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone with the process.
        }

        await stream.DisposeAsync();
        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        reader.Dispose();
        closing.Dispose();
        writeGate.Dispose();
    }
}
