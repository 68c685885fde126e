using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Commands;

/// <summary>QoS 1 redelivers and the server retries: a command id is executed at most once, across restarts too.</summary>
public sealed class DuplicateCommandTests(ITestOutputHelper output) : HouseTests(output)
{
    [Fact]
    public async Task A_finished_migration_sent_again_is_answered_with_its_outcome_and_not_run_again()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 1024));
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-1", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 1024 });
        var ready = await house.EventAsync("imac", "prep-1", AgentEventState.Ready);
        var migrate = new { command_id = "move-1", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = ready.IncomingUri };
        await house.SendAsync("basement", migrate);
        var completed = await house.EventAsync("basement", "move-1", AgentEventState.Completed);
        var before = house.Events("basement", "move-1");

        await house.SendAsync("basement", migrate);
        await SentinelAsync("basement");

        var after = house.Events("basement", "move-1");
        var answer = Assert.Single(after.Skip(before.Count));
        Assert.Equal((AgentEventState.Completed, completed.Id, completed.DowntimeMs), (answer.State, answer.Id, answer.DowntimeMs));
    }

    [Fact]
    public async Task A_prepare_incoming_sent_again_gets_the_same_uri_and_no_second_listener()
    {
        var imac = await house.StartAgentAsync("imac");
        var prepare = new { command_id = "prep-2", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 2048 };
        await house.SendAsync("imac", prepare);
        var ready = await house.EventAsync("imac", "prep-2", AgentEventState.Ready);

        await house.SendAsync("imac", prepare);
        await SentinelAsync("imac");

        var events = house.Events("imac", "prep-2");
        Assert.Single(events, e => e.State == AgentEventState.Accepted);
        Assert.All(events.Where(e => e.State == AgentEventState.Ready), e => Assert.Equal((ready.Id, ready.IncomingUri), (e.Id, e.IncomingUri)));
        Assert.Equal(2, events.Count(e => e.State == AgentEventState.Ready));
        Assert.Equal(VmState.Incoming, Assert.Single(imac.Inventory.Vms).State);
        Assert.Equal(16384 - 2048, imac.Inventory.MemoryFreeMb);
    }

    [Fact]
    public async Task A_running_command_sent_again_is_acknowledged_again_and_not_started_twice()
    {
        var slow = house.Options("basement", House.Vm("alice-desktop", 8192));
        slow.Simulated.SpeedFactor = 1;
        await house.StartAgentAsync(slow);
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-3", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 8192 });
        var ready = await house.EventAsync("imac", "prep-3", AgentEventState.Ready);
        var migrate = new { command_id = "move-3", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = ready.IncomingUri };
        await house.SendAsync("basement", migrate);
        var accepted = await house.EventAsync("basement", "move-3", AgentEventState.Accepted);
        await house.EventAsync("basement", "move-3", AgentEventState.Progress);

        await house.SendAsync("basement", migrate);
        await SentinelAsync("basement");

        var accepts = house.Events("basement", "move-3").Where(e => e.State == AgentEventState.Accepted).ToList();
        Assert.Equal(2, accepts.Count);
        Assert.All(accepts, a => Assert.Equal(accepted.Id, a.Id));
        Assert.DoesNotContain(house.Events("basement", "move-3"), e => e.State == AgentEventState.Failed);

        await house.SendAsync("basement", new { command_id = "cancel-3", type = "cancel", vm = "alice-desktop", of = "move-3" });
        Assert.Equal(AgentEventState.Cancelled, (await house.OutcomeAsync("basement", "move-3")).State);
    }

    [Fact]
    public async Task A_command_sent_again_after_a_restart_is_answered_from_the_journal()
    {
        var options = house.Options("basement", House.Vm("alice-desktop", 2048));
        var first = await house.StartAgentAsync(options);
        var suspend = new { command_id = "sus-4", type = "suspend", vm = "alice-desktop", to = Path.Combine(house.Scratch, "alice.state") };
        await house.SendAsync("basement", suspend);
        var completed = await house.EventAsync("basement", "sus-4", AgentEventState.Completed);
        await first.StopAsync();
        File.Delete(suspend.to);

        // alice is in her file now, not here (whereabouts.json): a second run of the suspend would show as a failure.
        var second = await house.StartAgentAsync(options);
        await house.SendAsync("basement", suspend);
        await SentinelAsync("basement");

        var events = house.Events("basement", "sus-4");
        Assert.Single(events, e => e.State == AgentEventState.Accepted);
        Assert.All(events.Where(e => e.State == AgentEventState.Completed), e => Assert.Equal(completed.Id, e.Id));
        Assert.Equal(2, events.Count(e => e.State == AgentEventState.Completed));
        Assert.DoesNotContain(events, e => e.State == AgentEventState.Failed);
        Assert.False(File.Exists(suspend.to));
        Assert.Empty(second.Inventory.Vms);
    }

    [Fact]
    public async Task A_migration_cut_short_by_a_crash_is_reported_failed_after_the_restart()
    {
        var options = house.Options("basement", House.Vm("alice-desktop", 8192));
        options.Simulated.SpeedFactor = 1;
        var first = await house.StartAgentAsync(options);
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-5", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 8192 });
        var ready = await house.EventAsync("imac", "prep-5", AgentEventState.Ready);
        await house.SendAsync("basement", new { command_id = "move-5", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = ready.IncomingUri });
        await house.EventAsync("basement", "move-5", AgentEventState.Progress);

        await first.SimulateCrashAsync();
        await house.StartAgentAsync(options);

        var failed = await house.OutcomeAsync("basement", "move-5");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.Equal("the agent on basement restarted before the command finished", failed.Error);
    }

    [Fact]
    public async Task A_cancel_that_overtakes_its_command_makes_the_late_command_a_no_op()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 2048));

        await house.SendAsync("basement", new { command_id = "cancel-6", type = "cancel", vm = "alice-desktop", of = "move-6" });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("basement", "cancel-6")).State);
        await house.SendAsync("basement", new { command_id = "move-6", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = "tcp:127.0.0.1:1" });

        var late = await house.OutcomeAsync("basement", "move-6");
        Assert.Equal(AgentEventState.Cancelled, late.State);
        Assert.DoesNotContain(house.Events("basement", "move-6"), e => e.State is AgentEventState.Accepted or AgentEventState.Failed);
    }

    [Fact]
    public async Task A_command_that_breaks_the_contract_fails_with_the_reason_and_the_agent_carries_on()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 2048));

        await house.SendRawAsync("basement", "this is not json");
        await house.SendAsync("basement", new { command_id = "bad-7", type = "teleport", vm = "alice-desktop" });
        await house.SendAsync("basement", new { command_id = "bad-8", type = "migrate", vm = "alice-desktop" });

        var teleport = await house.OutcomeAsync("basement", "bad-7");
        Assert.Equal(AgentEventState.Failed, teleport.State);
        Assert.Contains("field 'type' must be one of", teleport.Error);
        var incomplete = await house.OutcomeAsync("basement", "bad-8");
        Assert.Contains("required field 'target_host' is missing", incomplete.Error);
        await SentinelAsync("basement");
    }

    /// <summary>
    /// Commands are taken in order: once a later command is answered, anything the earlier duplicate would
    /// have started (its accepted event first of all) would already be visible.
    /// </summary>
    private async Task SentinelAsync(string host)
    {
        var id = $"sentinel-{Guid.NewGuid():N}";
        await house.SendAsync(host, new { command_id = id, type = "detach_display", vm = "nobody" });
        await house.EventAsync(host, id, AgentEventState.Completed);
    }
}
