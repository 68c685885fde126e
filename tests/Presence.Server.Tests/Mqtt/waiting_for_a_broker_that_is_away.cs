using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Mqtt;
using Presence.Server.Placement;
using Presence.Server.Tests.Infrastructure;
using Wolverine;
using Wolverine.Runtime;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// An external broker that is away (restarted, upgraded, not yet up) is an expected condition: what the server has to
/// publish meanwhile waits in the outbound queue and leaves once the broker is back, and the log says so once. Before,
/// each waiting message failed, was logged with its stack and rescheduled every few seconds (27 failures in 25 s for a
/// four-person house), which buried whatever else the log had to say.
/// </summary>
public sealed class waiting_for_a_broker_that_is_away
{
    [Fact]
    public async Task what_waits_for_the_broker_is_published_when_it_is_back_and_the_outage_is_logged_once()
    {
        await using var broker = await ExternalBroker.StartAsync();
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(
            await PostgresCluster.NewDatabaseAsync("broker_away"), broker.Port, "away", services: logs.AddTo, mqttLogin: broker.ServerLogin);
        var outbound = server.Services.GetRequiredService<MqttOutbound>();

        // Killed: mosquitto saves nothing, so every retained state it holds afterwards was published after its return.
        await broker.StopAsync(kill: true);
        await Eventually.TrueAsync(() => Task.FromResult(!outbound.IsConnected), what: "the server noticing the broker is gone");
        var before = logs.Lines.Count;
        var bus = server.Services.GetRequiredService<IMessageBus>();
        foreach (var user in new[] { "alice", "bob", "dave" })
        {
            await bus.PublishAsync(new PublishUserState(user));
        }

        // Long enough for the retries the failure rules would make: 0.2, 1 and 2 s apart, then every 5 s.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var duringOutage = logs.Lines.Skip(before).ToList();
        await broker.StartAgainAsync();

        await using var watcher = await MqttProbe.ConnectAsync(broker, "ha-watch", "homeassistant", "presence/users/+/state");
        foreach (var user in new[] { "alice", "bob", "dave" })
        {
            await watcher.WaitForAsync(m => m.Topic == $"presence/users/{user}/state", TimeSpan.FromSeconds(30), $"{user}'s state");
        }

        // The whole line when it fails: the collection's summary cuts it before the exception.
        var failures = duringOutage.Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.True(!failures.Any(), string.Join("\n", failures));
        Assert.Single(logs.Lines, l => l.Contains("wait in the outbound queue until it is back", StringComparison.Ordinal));
        await Eventually.TrueAsync(
            () => Task.FromResult(logs.Lines.Any(l => l.Contains("the broker is back", StringComparison.Ordinal))),
            what: "the log saying the broker is back");
    }

    /// <summary>
    /// A broker that dies while a publish waits for its PUBACK is the same expected outage: the publish waits for the
    /// broker and goes out again once it is back. Before, it failed and Wolverine logged it as an error with its
    /// stack (which also made the test above fail now and then, when a start-up state was on its way at the kill).
    /// </summary>
    [Fact]
    public async Task a_publish_the_broker_died_during_waits_for_it_too()
    {
        await using var broker = await ExternalBroker.StartAsync();
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(
            await PostgresCluster.NewDatabaseAsync("broker_died"), broker.Port, "died", services: logs.AddTo, mqttLogin: broker.ServerLogin);
        var outbound = server.Services.GetRequiredService<MqttOutbound>();
        await Eventually.TrueAsync(() => Task.FromResult(outbound.IsConnected), what: "the server connected");

        // Frozen, mosquitto takes the PUBLISH packets into its socket's buffer and never answers: each lane's publish
        // is on its way when it dies.
        broker.Freeze();
        var before = logs.Lines.Count;
        var bus = server.Services.GetRequiredService<IMessageBus>();
        foreach (var user in new[] { "alice", "bob", "dave" })
        {
            await bus.PublishAsync(new PublishUserState(user));
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        await broker.StopAsync(kill: true);
        await Eventually.TrueAsync(() => Task.FromResult(!outbound.IsConnected), what: "the server noticing the broker is gone");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await broker.StartAgainAsync();

        await using var watcher = await MqttProbe.ConnectAsync(broker, "ha-watch", "homeassistant", "presence/users/+/state");
        foreach (var user in new[] { "alice", "bob", "dave" })
        {
            await watcher.WaitForAsync(m => m.Topic == $"presence/users/{user}/state", TimeSpan.FromSeconds(30), $"{user}'s state");
        }

        var failures = logs.Lines.Skip(before).Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.True(!failures.Any(), string.Join("\n", failures));
        Assert.Single(logs.Lines, l => l.Contains("wait in the outbound queue until it is back", StringComparison.Ordinal));
    }

    [Fact]
    public async Task an_outage_longer_than_wolverines_execution_timeout_does_not_end_the_wait()
    {
        await using var server = await TestServer.StartAsync(await PostgresCluster.NewDatabaseAsync("broker_away_long"));
        var handlers = ((WolverineRuntime)server.Services.GetRequiredService<IWolverineRuntime>()).Handlers;

        foreach (var published in new[] { typeof(PublishUserState), typeof(Presence.Server.Migration.SendAgentCommand) })
        {
            Assert.True(handlers.ChainFor(published)!.ExecutionTimeoutInSeconds >= 3600, $"{published.Name} may wait an hour");
        }
    }
}
