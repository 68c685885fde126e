using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Commands;

/// <summary>
/// Issue 10's attack and its variants, published straight to an agent's command topic past the server: the agent
/// refuses each with `failed` and the reason, and the VM stays where it was, untouched.
/// </summary>
public sealed class ForgedCommandTests(ITestOutputHelper output) : HouseTests(output)
{
    [Fact]
    public async Task A_migrate_from_a_client_that_is_not_the_server_is_refused_and_streams_nothing()
    {
        var basement = await BasementAsync();
        using var thief = new TcpListener(IPAddress.Loopback, 0);
        thief.Start();
        var id = "11111111-2222-3333-4444-555555555555";

        await house.SendUnsignedAsync("basement", Migrate(id, "alice-desktop", "imac", $"tcp:127.0.0.1:{((IPEndPoint)thief.LocalEndpoint).Port}"));

        var refused = await house.OutcomeAsync("basement", id);
        Assert.Equal(AgentEventState.Failed, refused.State);
        Assert.Contains("not signed by this house's server", refused.Error);
        Assert.DoesNotContain(house.Events("basement", id), e => e.State == AgentEventState.Accepted);
        Assert.False(thief.Pending(), "the forged migrate opened a connection to the address it named");
        Untouched(basement);
    }

    [Fact]
    public async Task A_command_replayed_after_its_window_is_refused()
    {
        var basement = await BasementAsync();

        await house.SendSignedAsync("basement", Suspend("old-1", "alice-desktop"), house.ServerKey, DateTimeOffset.UtcNow.AddMinutes(-6));

        var refused = await house.OutcomeAsync("basement", "old-1");
        Assert.Equal(AgentEventState.Failed, refused.State);
        Assert.Contains("older than the 5 min", refused.Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_stale_command_refused_once_stays_refused_when_it_comes_again_fresh()
    {
        var basement = await BasementAsync();
        await house.SendSignedAsync("basement", Suspend("late-1", "alice-desktop"), house.ServerKey, DateTimeOffset.UtcNow.AddMinutes(-6));
        var refused = await house.OutcomeAsync("basement", "late-1");

        await house.SendRawAsync("basement", Suspend("late-1", "alice-desktop"));
        await house.SendAsync("basement", new { command_id = "sentinel-late", type = "detach_display", vm = "alice-desktop" });
        await house.OutcomeAsync("basement", "sentinel-late");

        var answers = house.Events("basement", "late-1");
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal((AgentEventState.Failed, refused.Id), (a.State, a.Id)));
        Untouched(basement);
    }

    [Fact]
    public async Task A_command_from_too_far_in_the_future_is_refused()
    {
        var basement = await BasementAsync();

        await house.SendSignedAsync("basement", Suspend("ahead-1", "alice-desktop"), house.ServerKey, DateTimeOffset.UtcNow.AddMinutes(6));

        var refused = await house.OutcomeAsync("basement", "ahead-1");
        Assert.Contains("in the future", refused.Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_signed_command_with_one_byte_changed_is_refused()
    {
        var basement = await BasementAsync();
        var topic = house.Topics.AgentCommands("basement");
        var genuine = Encoding.UTF8.GetBytes(Suspend("altered-1", "alice-desktop"));
        var signature = CommandSignature.Sign(house.ServerKey, topic, NodaTime.SystemClock.Instance.GetCurrentInstant(), genuine);
        var altered = (byte[])genuine.Clone();
        var at = Encoding.UTF8.GetString(altered).IndexOf("suspend", StringComparison.Ordinal);
        altered[at] = (byte)'S';

        await house.Watcher.PublishAsync(topic, altered, signature);

        var refused = await house.OutcomeAsync("basement", "altered-1");
        Assert.Equal("command not signed by this house's server", refused.Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_command_signed_with_another_key_is_refused()
    {
        var basement = await BasementAsync();
        using var otherHouse = HouseKey.Create();

        await house.SendSignedAsync("basement", Suspend("other-1", "alice-desktop"), otherHouse, DateTimeOffset.UtcNow);

        var refused = await house.OutcomeAsync("basement", "other-1");
        Assert.Equal("command not signed by this house's server", refused.Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_command_signed_for_another_agent_is_refused()
    {
        var basement = await BasementAsync();
        var payload = Encoding.UTF8.GetBytes(Suspend("elsewhere-1", "alice-desktop"));
        var signedForImac = CommandSignature.Sign(house.ServerKey, house.Topics.AgentCommands("imac"), NodaTime.SystemClock.Instance.GetCurrentInstant(), payload);

        await house.Watcher.PublishAsync(house.Topics.AgentCommands("basement"), payload, signedForImac);

        var refused = await house.OutcomeAsync("basement", "elsewhere-1");
        Assert.Equal("command not signed by this house's server", refused.Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_signed_migrate_of_a_vm_this_agent_does_not_run_is_refused()
    {
        var basement = await BasementAsync();

        await house.SendRawAsync("basement", Migrate("stray-1", "bob-desktop", "imac", "tcp:127.0.0.1:45999"));

        var refused = await house.OutcomeAsync("basement", "stray-1");
        Assert.Equal("bob-desktop is not on basement", refused.Error);
        Assert.DoesNotContain(house.Events("basement", "stray-1"), e => e.State == AgentEventState.Accepted);
        Untouched(basement);
    }

    [Fact]
    public async Task A_signed_migrate_to_this_very_host_or_to_no_address_is_refused()
    {
        var basement = await BasementAsync();

        await house.SendRawAsync("basement", Migrate("self-1", "alice-desktop", "basement", "tcp:127.0.0.1:45999"));
        await house.SendRawAsync("basement", Migrate("nowhere-1", "alice-desktop", "imac", "exec:cat > /tmp/alice"));

        Assert.Equal("a migrate of alice-desktop cannot target basement itself", (await house.OutcomeAsync("basement", "self-1")).Error);
        Assert.StartsWith("target_uri 'exec:cat > /tmp/alice' names no address", (await house.OutcomeAsync("basement", "nowhere-1")).Error);
        Untouched(basement);
    }

    [Fact]
    public async Task A_forged_prepare_incoming_or_resume_for_a_vm_outside_the_house_is_refused()
    {
        var imac = await house.StartAgentAsync("imac");

        await house.SendUnsignedAsync("imac", JsonSerializer.Serialize(new { command_id = "evil-prep", type = "prepare_incoming", vm = "mallory-vm", memory_mb = 1024 }));
        await house.SendUnsignedAsync("imac", JsonSerializer.Serialize(new { command_id = "evil-resume", type = "resume", vm = "mallory-vm", from = "/tmp/mallory.json" }));

        Assert.Contains("not signed by this house's server", (await house.OutcomeAsync("imac", "evil-prep")).Error);
        Assert.Contains("not signed by this house's server", (await house.OutcomeAsync("imac", "evil-resume")).Error);
        Assert.Empty(imac.Inventory.Vms);
    }

    [Fact]
    public async Task An_abort_incoming_for_a_vm_never_announced_is_refused()
    {
        await house.StartAgentAsync("imac");

        await house.SendAsync("imac", new { command_id = "abort-1", type = "abort_incoming", vm = "alice-desktop" });

        Assert.Equal("imac was not told to expect alice-desktop", (await house.OutcomeAsync("imac", "abort-1")).Error);
    }

    [Fact]
    public async Task A_forgery_borrowing_a_genuine_commands_id_does_not_change_its_answer()
    {
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-9", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 1024 });
        await house.EventAsync("imac", "prep-9", AgentEventState.Ready);

        await house.SendUnsignedAsync("imac", JsonSerializer.Serialize(new { command_id = "prep-9", type = "abort_incoming", vm = "alice-desktop" }));
        await house.SendAsync("imac", new { command_id = "sentinel-9", type = "detach_display", vm = "alice-desktop" });
        await house.OutcomeAsync("imac", "sentinel-9");

        Assert.DoesNotContain(house.Events("imac", "prep-9"), e => e.State == AgentEventState.Failed);
    }

    [Fact]
    public async Task Without_a_server_key_no_command_is_carried_out()
    {
        var options = house.Options("basement", House.Vm("alice-desktop", 1024));
        options.Trust.ServerKey = null;
        options.Trust.ServerKeyFile = Path.Combine(house.Scratch, "no-server-here.pub");
        var basement = await house.StartAgentAsync(options);

        await house.SendRawAsync("basement", Suspend("keyless-1", "alice-desktop"));

        Assert.StartsWith("command refused: no server key in", (await house.OutcomeAsync("basement", "keyless-1")).Error);
        Untouched(basement);
    }

    [Fact]
    public async Task On_loopback_the_key_the_server_wrote_beside_its_data_is_trusted()
    {
        var options = house.Options("basement", House.Vm("alice-desktop", 1024));
        options.Trust.ServerKey = null;
        options.Trust.ServerKeyFile = Path.Combine(house.Scratch, "server-key.pub");
        await house.StartAgentAsync(options);
        // Written after the agent started, as when the agent's service comes up before the server's.
        await File.WriteAllTextAsync(options.Trust.ServerKeyFile, HouseKey.ExportPublicKey(house.ServerKey) + "\n");

        await house.SendRawAsync("basement", Suspend("local-1", "alice-desktop"));

        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("basement", "local-1")).State);
    }

    private Task<PresenceAgent> BasementAsync() => house.StartAgentAsync("basement", House.Vm("alice-desktop", 1024));

    private static void Untouched(PresenceAgent basement) => Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);

    private static string Migrate(string id, string vm, string targetHost, string targetUri) => JsonSerializer.Serialize(new
    {
        command_id = id, type = "migrate", vm, target_host = targetHost, target_uri = targetUri, mode = "live", max_bandwidth_mbps = 1000, downtime_limit_ms = 300,
    });

    private static string Suspend(string id, string vm) => JsonSerializer.Serialize(new { command_id = id, type = "suspend", vm });
}
