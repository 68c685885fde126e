using System.Buffers;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace Presence.Agent.Tests.Support;

public sealed record Received(int Index, string Topic, byte[] Payload, bool Retain)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public override string ToString() => $"{Topic} {Text}";
}

/// <summary>
/// The server's seat in a test: an MQTT client that sees everything under the topic root and sends commands.
/// Waits are failure guards only (10 s by default), never measurements.
/// </summary>
public sealed class Watcher : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly IMqttClient client;
    private readonly List<Received> messages = [];
    private readonly Lock gate = new();
    private TaskCompletionSource arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Watcher(IMqttClient client) => this.client = client;

    public static async Task<Watcher> ConnectAsync(int port, string filter)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var watcher = new Watcher(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var message = e.ApplicationMessage;
            lock (watcher.gate)
            {
                watcher.messages.Add(new Received(watcher.messages.Count, message.Topic, message.Payload.ToArray(), message.Retain));
                watcher.arrived.TrySetResult();
                watcher.arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId($"watcher-{Guid.NewGuid():N}")
            .Build());
        await client.SubscribeAsync(filter, MqttQualityOfServiceLevel.AtLeastOnce);
        return watcher;
    }

    public IReadOnlyList<Received> Messages
    {
        get
        {
            lock (gate)
            {
                return messages.ToList();
            }
        }
    }

    public Task PublishAsync(string topic, string payload) => PublishAsync(topic, Encoding.UTF8.GetBytes(payload), []);

    /// <summary>Publishes with MQTT 5 user properties (a command's signature), as the server does.</summary>
    public Task PublishAsync(string topic, byte[] payload, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        foreach (var (name, value) in properties)
        {
            message = message.WithUserProperty(name, new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(value)));
        }

        return client.PublishAsync(message.Build());
    }

    /// <summary>The first message (already seen or still to come) that matches.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (true)
        {
            Task next;
            lock (gate)
            {
                if (messages.FirstOrDefault(match) is { } hit)
                {
                    return hit;
                }

                next = arrived.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                var seen = string.Join("\n  ", Messages.TakeLast(30));
                throw new TimeoutException($"waited {(patience ?? Patience).TotalSeconds:0} s for {what}; last messages:\n  {seen}");
            }

            await Task.WhenAny(next, Task.Delay(left));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await client.DisconnectAsync();
        client.Dispose();
    }
}
