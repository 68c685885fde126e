using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Users;

/// <summary>
/// The retained `presence/users/{user}/state` is published when what it says changes, not for every piece of
/// evidence: an idle report only records what was seen, and re-publishing the same state cost each such signal a
/// durable envelope, a saga read and a commit (issue 11 §6).
/// </summary>
public sealed class publishing_the_state_when_it_changes : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() => house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task evidence_that_changes_nothing_shown_is_recorded_without_publishing_the_state_again()
    {
        await using var watcher = await MqttProbe.ConnectAsync(house.Server.MqttPort, "state-watcher", "presence/users/alice/state");
        // The first evidence starts alice's saga, which sees where the house runs her VM: that is news.
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/idle", """{"id":"idle-0","user":"alice","idle_seconds":1}""");
        var started = await watcher.WaitForAsync(m => m.Json.GetProperty("vm_host").GetString() == "basement", TimeSpan.FromSeconds(30), "alice's saga started");
        Assert.False(started.Retained);

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/idle", """{"id":"idle-1","user":"alice","idle_seconds":5}""");
        await Eventually.TrueAsync(async () => (await house.StreamAsync("alice")).OfType<SignalRecorded>().Any(s => s.Evidence.Id == "idle-1"),
            "the second idle report in alice's stream");

        // Something that does change the state, queued behind whatever the idle report queued (one ordered outbound queue).
        await using (var homeAssistant = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-hold", "homeassistant"))
        {
            await homeAssistant.PublishAsync("presence/users/alice/requests", """{"id":"hold-1","action":"hold"}""");
        }

        await watcher.WaitForAsync(m => m.Json.GetProperty("mode").GetString() == "held", TimeSpan.FromSeconds(30), "alice held");
        var after = watcher.All.SkipWhile(m => m != started).Skip(1).ToList();
        Assert.True(after.Count == 1, "after the saga started, only the hold should have been published:\n" + string.Join("\n", after));
        Assert.Equal("held", after[0].Json.GetProperty("mode").GetString());
    }
}
