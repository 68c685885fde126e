using Marten;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// The walking skeleton, every link real: an MQTT login → the bridge → Wolverine → the decider → events in
/// PostgreSQL → agent commands over MQTT → two simulated agents migrate the VM → their answers → the projection
/// and the retained state topic.
/// </summary>
public sealed class a_login_moves_the_vm : IAsyncLifetime
{
    private RunningHouse house = null!;

    private TestServer server => house.Server;
    private MqttProbe probe => house.Probe;

    // The server knows both agents before the login, as it would in a house that has been running.
    public async Task InitializeAsync() => house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task alice_logging_in_at_the_imac_brings_her_vm_there()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        // The retained state topic says where the VM runs now.
        var state = await probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's state with vm_host imac");
        Assert.Equal("imac", state.Json.GetProperty("seat_host").GetString());
        Assert.Equal("local", state.Json.GetProperty("mode").GetString());
        Assert.Equal("follow_seat", state.Json.GetProperty("last_decision").GetProperty("rule").GetString());

        // A late subscriber (Home Assistant after a restart) gets the same state because it is retained.
        await using (var late = await MqttProbe.ConnectAsync(server.MqttPort, "probe-late", "presence/users/alice/state"))
        {
            var retained = await late.WaitForAsync(m => m.Json.GetProperty("vm_host").GetString() == "imac", what: "retained state");
            Assert.True(retained.Retained);
        }

        // The projection agrees.
        await using var session = server.Store.QuerySession();
        var saga = await session.LoadAsync<UserSaga>("alice");
        Assert.NotNull(saga);
        Assert.Equal("imac", saga.VmHost);
        Assert.Equal("imac", saga.Seat);
        Assert.Null(saga.Migration);

        // The stream holds the whole story, in order.
        var stream = (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).Where(e => e is not (HouseObserved or HouseChanged)).ToList();
        // Shown on the iMac first (and again from the iMac once it landed): the display's events interleave with the
        // move's as the agents answer, so the move's own order is checked without them.
        Assert.Contains(stream, e => e is DisplayAttachRequested);
        var kinds = stream.Where(e => e is not (DisplayAttachRequested or DisplayAttached or HostChangeNoticed)
                && !(e is PhaseTimeoutScheduled { Phase: Phases.Displaying }) && !(e is AgentReported { Report.CommandId: var c } && stream.OfType<DisplayAttachRequested>().Any(d => d.CommandId == c)))
            .Select(e => e.GetType()).Distinct().ToList();
        Assert.Equal(
            [typeof(UserEnrolled), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(IncomingRequested),
             typeof(PhaseTimeoutScheduled), typeof(AgentReported), typeof(IncomingReady), typeof(MigrationRequested), typeof(MigrationProgressed),
             typeof(MigrationCompleted)],
            kinds);
        var signal = Assert.Single(stream.OfType<SignalRecorded>());
        Assert.Equal("login-1", signal.Evidence.Id);
        var decision = Assert.Single(stream.OfType<PlacementDecided>());
        Assert.Equal(PlacementMode.LiveMigration, decision.Mode);
        Assert.Equal(("basement", "imac"), (decision.From, decision.To));
        Assert.Contains("login-1", decision.EvidenceIds);
        var completed = Assert.Single(stream.OfType<MigrationCompleted>());
        Assert.NotNull(completed.TotalTimeMs);

        // Audit metadata: the login started the story, to the agents' last answer; each step is caused by what it
        // answers (the agents' answers by the command they answer); from the decision on, every event names it;
        // every event names the policy version and the server node.
        var raw = await session.Events.FetchStreamAsync("alice");
        Assert.All(raw, e => Assert.Equal("login-1", e.CorrelationId));
        var completedEvent = raw.Single(e => e.Data is MigrationCompleted);
        Assert.Equal(stream.OfType<MigrationRequested>().Single().CommandId, completedEvent.CausationId);
        Assert.All(raw.SkipWhile(e => e.Data is not PlacementDecided),
            e => Assert.Equal(decision.DecisionId, e.Headers?["decision_id"]?.ToString()));
        Assert.All(raw, e => Assert.Equal(decision.PolicyVersion, e.Headers?["policy_version"]?.ToString()));
        Assert.All(raw, e => Assert.Equal("test", e.Headers?["node"]?.ToString())); // TestServer's Mqtt:NodeName

        // The agents were told: show it on the iMac first, then two phases: prepare on the target, then migrate on the source.
        var shown = await probe.WaitForAsync(m => m.Topic == "presence/agents/imac/commands", what: "attach_display");
        Assert.Equal(("attach_display", "spice://basement:5901"), (shown.Json.GetProperty("type").GetString(), shown.Json.GetProperty("display_uri").GetString()));
        var prepare = await probe.WaitForAsync(
            m => m.Topic == "presence/agents/imac/commands" && m.Json.GetProperty("type").GetString() != "attach_display", what: "prepare_incoming");
        Assert.Equal("prepare_incoming", prepare.Json.GetProperty("type").GetString());
        var migrate = await probe.WaitForAsync(m => m.Topic == "presence/agents/basement/commands", what: "migrate");
        Assert.Equal("migrate", migrate.Json.GetProperty("type").GetString());
        Assert.Equal("imac", migrate.Json.GetProperty("target_host").GetString());

        // And the agents' own inventories say the VM moved.
        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/imac/inventory" && m.Payload.Contains("\"alice-desktop\"") && m.Payload.Contains("\"running\""),
            what: "imac inventory with alice-desktop running");
        Assert.DoesNotContain(probe.All, m => m.Topic == "presence/errors");
    }
}
