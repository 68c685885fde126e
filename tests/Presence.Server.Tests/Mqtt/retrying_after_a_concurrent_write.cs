using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Placement;
using Presence.Server.Tests.Infrastructure;
using Wolverine;
using Wolverine.Tracking;
using NodaTime;
using Presence.Contracts.Wire;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// Another server node stores a signal for alice while this one is deciding hers: this one's transaction loses the
/// optimistic-concurrency race. Wolverine's retry policy decides again on the stream as it now is, so the signal is
/// stored after the other instead of rejected.
/// </summary>
public sealed class retrying_after_a_concurrent_write : IAsyncLifetime
{
    private readonly AnotherNode other = new();
    private TestServer server = null!;

    private MqttBridge Bridge => server.Services.GetRequiredService<MqttBridge>();

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(services: s =>
        {
            s.ConfigureMarten(o => o.Listeners.Add(other));
            TestServer.WithoutSignalWarmup(s);
        });
        other.Services = server.Services;
    }

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private async Task<IReadOnlyList<string>> EvidenceAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    /// <summary>Through the bridge, and until its handler (and what it cascaded) is done.</summary>
    private Task<ITrackedSession> HandleAsync(string kind, string payload) => HandleOnAsync($"presence/hosts/imac/signals/{kind}", payload);

    private async Task<ITrackedSession> HandleOnAsync(string topic, string payload)
    {
        var stored = false;
        var tracked = await server.Services.TrackActivity(TimeSpan.FromSeconds(30)).ExecuteAndWaitAsync((Func<IMessageContext, Task>)(async _ =>
            stored = await Bridge.HandleAsync(topic, Encoding.UTF8.GetBytes(payload), CancellationToken.None)));
        Assert.True(stored);
        return tracked;
    }

    [Fact]
    public async Task a_signal_that_lost_the_race_to_start_the_stream_is_stored_after_the_other()
    {
        other.RacesOnce("""{"id":"other-1","user":"alice","idle_seconds":5}""");

        await HandleAsync("session", """{"id":"login-1","user":"alice","state":"login"}""");

        Assert.Equal(1, other.Raced);
        Assert.Equal(["other-1", "login-1"], await EvidenceAsync());
        Assert.Equal(0, server.Rejections.Count);
    }

    [Fact]
    public async Task a_signal_that_lost_the_race_on_an_existing_stream_is_stored_after_the_other()
    {
        await HandleAsync("session", """{"id":"login-1","user":"alice","state":"login"}""");
        other.RacesOnce("""{"id":"other-1","user":"alice","idle_seconds":5}""");

        var tracked = await HandleOnAsync("presence/users/alice/requests", """{"id":"hold-1","action":"hold"}""");

        Assert.Equal(1, other.Raced);
        Assert.Equal(["login-1", "other-1", "hold-1"], await EvidenceAsync());
        Assert.Equal(0, server.Rejections.Count);

        // One state update, the retried hold's (the other node's idle report changes nothing shown): what the lost
        // attempt had queued was never stored, and does not leave with the retry either.
        Assert.Equal(["alice"], tracked.Sent.MessagesOf<PublishUserState>().Select(m => m.User));
    }

    /// <summary>
    /// Just before a transaction that appends to alice's stream commits, handles another signal for her at once, as a
    /// second server node would (this node's lanes would put it behind the one being handled): that one commits first.
    /// </summary>
    private sealed class AnotherNode : DocumentSessionListenerBase
    {
        private string? payload;

        public IServiceProvider? Services { get; set; }

        public int Raced { get; private set; }

        public void RacesOnce(string idle) => payload = idle;

        public override async Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            if (Services is null || payload is not { } idle || !session.PendingChanges.Streams().Any(s => s.Key == "alice"))
            {
                return;
            }

            payload = null;
            Raced++;
            const string topic = "presence/hosts/imac/signals/idle";
            var bytes = Encoding.UTF8.GetBytes(idle);
            var inbound = InboundParser.Parse(new Topics(), topic, bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5));
            await using var scope = Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(
                Arrived.From(inbound, "presence", bytes), token);
        }
    }
}
