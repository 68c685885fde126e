using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NodaTime;
using Presence.Agent.Hypervisors.Qemu;
using Presence.Agent.Tests.Qemu;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;

using Xunit.Abstractions;

namespace Presence.Agent.Tests.Drills;

/// <summary>
/// Issue 10 §3, "forged/replayed/stale/altered commands straight to an agent": every kind of bad command is
/// published on a real qemu agent's command topic past the server. Each is answered (`failed` with the reason, or,
/// for a known command id, the answer already recorded), logged, and the guest is untouched: the same qemu process,
/// still running, no migration started, nothing connected to the address a forgery named. One genuine command at
/// the end is carried out, to show the setup could act.
/// </summary>
[Collection(QemuLab.Collection)]
public sealed class ForgedCommandsOnRealQemuDrill(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Host = "basement";

    private QemuLab lab = null!;
    private House house = null!;

    public async Task InitializeAsync()
    {
        lab = await QemuLab.StartAsync(output);
        house = await House.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await house.DisposeAsync();
        await lab.DisposeAsync();
    }

    [Fact]
    [Trait("Category", "Drill")]
    public async Task every_bad_command_is_refused_and_the_real_guest_is_untouched()
    {
        var rounds = Drill.Count("PRESENCE_DRILL_FORGED_ROUNDS", 1);

        // A second monitor for the drill: the agent holds the first, and the drill must not ask the agent what it did.
        var observerSocket = Path.Combine(lab.Scratch, "observer.qmp");
        var options = lab.Options(Host, "running", q => q.StopVmsOnExit = true, house.Options(Host));
        options.Vms[0].QemuArguments.AddRange(["-qmp", $"unix:{observerSocket},server=on,wait=off"]);
        await house.StartAgentAsync(options);
        await house.InventoryAsync(Host, i => i.Vms is [{ State: VmState.Running }], "alice running on basement");
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(lab.Scratch, Host, "qemu", QemuLab.Vm + ".pid"))).Trim());
        await using var observer = await QmpClient.ConnectAsync(observerSocket, CancellationToken.None);

        using var thief = new TcpListener(IPAddress.Loopback, 0);
        thief.Start();
        var thiefUri = $"tcp:127.0.0.1:{((IPEndPoint)thief.LocalEndpoint).Port}";

        // The genuine command whose bytes, signature and id the forgeries reuse; harmless to the guest.
        var genuinePayload = Json(new { command_id = "genuine-1", type = "detach_display", vm = QemuLab.Vm });
        var topic = house.Topics.AgentCommands(Host);
        var genuineSignature = CommandSignature.Sign(house.ServerKey, topic, SystemClock.Instance.GetCurrentInstant(), Encoding.UTF8.GetBytes(genuinePayload));
        await house.Watcher.PublishAsync(topic, Encoding.UTF8.GetBytes(genuinePayload), genuineSignature);
        var genuine = await house.OutcomeAsync(Host, "genuine-1");
        Assert.Equal(AgentEventState.Completed, genuine.State);

        var sent = 0;
        var refused = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var bad in BadCommands(round, thiefUri, genuinePayload, genuineSignature))
            {
                var since = house.Watcher.Messages.Count;
                await bad.Send();
                sent++;
                switch (bad.Answer)
                {
                    case Answer.Failed:
                        var answer = await AnswerAfterAsync(bad.CommandId, since);
                        Assert.True(answer.State == AgentEventState.Failed, $"{bad.Kind}: answered {answer.State}, not failed");
                        Assert.True(answer.Error?.Contains(bad.Reason!, StringComparison.Ordinal) == true, $"{bad.Kind}: the reason '{answer.Error}' does not say '{bad.Reason}'");
                        Assert.Contains(house.LogLines, l => l.Contains($"Refused command {bad.CommandId}: ", StringComparison.Ordinal) && l.Contains(bad.Reason!, StringComparison.Ordinal));
                        Assert.DoesNotContain(house.Events(Host, bad.CommandId), e => e.State is AgentEventState.Accepted or AgentEventState.Progress);
                        break;

                    case Answer.Recorded:
                        // A known id is answered with what was recorded for it, never run again.
                        var again = await AnswerAfterAsync(bad.CommandId, since);
                        Assert.True((again.State, again.Id) == (genuine.State, genuine.Id), $"{bad.Kind}: answered {again.State} {again.Id}, not the recorded answer");
                        break;

                    case Answer.LoggedOnly:
                        // A forgery's answer must not overwrite the genuine one's: it is logged, and a later genuine
                        // command's answer shows the agent went past it without publishing anything for it.
                        var sentinel = $"sentinel-{sent}";
                        await house.SendAsync(Host, new { command_id = sentinel, type = "detach_display", vm = QemuLab.Vm });
                        await AnswerAfterAsync(sentinel, since);
                        Assert.Contains(house.LogLines, l => l.Contains($"Refused command {bad.CommandId}: ", StringComparison.Ordinal) && l.Contains(bad.Reason!, StringComparison.Ordinal));
                        Assert.DoesNotContain(house.Watcher.Messages.Skip(since), m => m.Topic == house.Topics.AgentEvents(Host) && AgentEvent.Parse(Host, m.Payload).CommandId == bad.CommandId);
                        break;
                }

                await UntouchedAsync(bad.Kind, observer, pid, thief);
                refused++;
            }
        }

        // The setup could act: a genuine signed command on the same guest is carried out.
        var file = Path.Combine(lab.Scratch, "shared", QemuLab.Vm + ".state");
        await house.SendAsync(Host, new { command_id = "genuine-suspend", type = "suspend", vm = QemuLab.Vm, to = file });
        var carriedOut = await house.OutcomeAsync(Host, "genuine-suspend");
        Assert.Equal(AgentEventState.Completed, carriedOut.State);
        Assert.True(File.Exists(file), "the genuine suspend wrote no state file");
        await house.InventoryAsync(Host, i => i.Vms.Count == 0, "alice suspended away from basement");

        output.WriteLine($"forged-command drill on real qemu: sent {sent}, refused {refused}, carried out {sent - refused} of them; " +
                         $"then 1 genuine command sent and carried out (qemu pid {pid} untouched until then)");
        Assert.Equal(sent, refused);
    }

    private IEnumerable<BadCommand> BadCommands(int round, string thiefUri, string genuinePayload, IReadOnlyList<KeyValuePair<string, string>> genuineSignature)
    {
        var topic = house.Topics.AgentCommands(Host);
        var now = DateTimeOffset.UtcNow;
        const string forged = "not signed by this house's server";
        string Id(string kind) => $"{kind}-{round}";

        yield return new("unsigned migrate to an address the house does not know", Id("unsigned"), forged,
            () => house.SendUnsignedAsync(Host, Migrate(Id("unsigned"), QemuLab.Vm, "imac", thiefUri)));

        yield return new("signed with another house's key", Id("other-key"), forged, async () =>
        {
            using var other = HouseKey.Create();
            await house.SendSignedAsync(Host, Migrate(Id("other-key"), QemuLab.Vm, "imac", thiefUri), other, DateTimeOffset.UtcNow);
        });

        yield return new("signed for another agent's topic", Id("elsewhere"), forged, () =>
        {
            var payload = Encoding.UTF8.GetBytes(Migrate(Id("elsewhere"), QemuLab.Vm, "imac", thiefUri));
            return house.Watcher.PublishAsync(topic, payload, CommandSignature.Sign(house.ServerKey, house.Topics.AgentCommands("imac"), Instant.FromDateTimeOffset(now), payload));
        });

        yield return new("one byte of the payload altered", Id("altered"), forged, () =>
        {
            var payload = Encoding.UTF8.GetBytes(Migrate(Id("altered"), QemuLab.Vm, "imac", "tcp:127.0.0.1:1"));
            var signature = CommandSignature.Sign(house.ServerKey, topic, Instant.FromDateTimeOffset(now), payload);
            var at = Encoding.UTF8.GetString(payload).IndexOf("127.0.0.1:1", StringComparison.Ordinal) + "127.0.0.1:".Length;
            payload[at] = (byte)'9'; // the port the server signed, changed to one the forger listens on
            return house.Watcher.PublishAsync(topic, payload, signature);
        });

        yield return new("issued_at altered", Id("re-dated"), forged, () =>
        {
            var payload = Encoding.UTF8.GetBytes(Suspend(Id("re-dated")));
            var signature = CommandSignature.Sign(house.ServerKey, topic, Instant.FromDateTimeOffset(now.AddMinutes(-10)), payload)
                .Select(p => p.Key == CommandSignature.IssuedAtProperty ? new(p.Key, CommandSignature.FormatInstant(Instant.FromDateTimeOffset(now))) : p)
                .ToList();
            return house.Watcher.PublishAsync(topic, payload, signature);
        });

        yield return new("stale beyond MaxAge", Id("stale"), "older than the 5 min",
            () => house.SendSignedAsync(Host, Suspend(Id("stale")), house.ServerKey, now.AddMinutes(-6)));

        yield return new("from the future", Id("ahead"), "in the future",
            () => house.SendSignedAsync(Host, Suspend(Id("ahead")), house.ServerKey, now.AddMinutes(6)));

        yield return new("signed migrate to no address", Id("nowhere"), "names no address",
            () => house.SendRawAsync(Host, Migrate(Id("nowhere"), QemuLab.Vm, "imac", "exec:cat > /tmp/alice")));

        yield return new("signed migrate to this very host", Id("self"), $"cannot target {Host} itself",
            () => house.SendRawAsync(Host, Migrate(Id("self"), QemuLab.Vm, Host, thiefUri)));

        yield return new("signed migrate of a VM the agent does not run", Id("stray"), $"bob-desktop is not on {Host}",
            () => house.SendRawAsync(Host, Migrate(Id("stray"), "bob-desktop", "imac", thiefUri)));

        yield return new("replay of the genuine command after it ran", "genuine-1", null,
            () => house.Watcher.PublishAsync(topic, Encoding.UTF8.GetBytes(genuinePayload), genuineSignature), Answer.Recorded);

        yield return new("a forgery borrowing the genuine command's id", "genuine-1", forged,
            () => house.SendUnsignedAsync(Host, Migrate("genuine-1", QemuLab.Vm, "imac", thiefUri)), Answer.LoggedOnly);
    }

    /// <summary>The agent's first answer to <paramref name="commandId"/> published after message <paramref name="since"/>.</summary>
    private async Task<AgentEvent> AnswerAfterAsync(string commandId, int since)
    {
        var events = house.Topics.AgentEvents(Host);
        var message = await house.Watcher.WaitForAsync(
            m => m.Index >= since && m.Topic == events && AgentEvent.Parse(Host, m.Payload) is var e && e.CommandId == commandId
                 && e.State is not (AgentEventState.Accepted or AgentEventState.Progress),
            $"the answer to {commandId}");
        return AgentEvent.Parse(Host, message.Payload);
    }

    private static async Task UntouchedAsync(string kind, QmpClient observer, int pid, TcpListener thief)
    {
        using (var qemu = System.Diagnostics.Process.GetProcessById(pid))
        {
            Assert.False(qemu.HasExited, $"{kind}: qemu {pid} is gone");
        }

        Assert.Equal("running", await observer.QueryStatusAsync(CancellationToken.None));
        Assert.Equal("none", (await observer.QueryMigrateAsync(CancellationToken.None)).Status);
        Assert.False(thief.Pending(), $"{kind}: something connected to the address a forgery named");
    }

    private static string Json(object command) => JsonSerializer.Serialize(command);

    private static string Migrate(string id, string vm, string targetHost, string targetUri) => Json(new
    {
        command_id = id, type = "migrate", vm, target_host = targetHost, target_uri = targetUri, mode = "live", max_bandwidth_mbps = 1000, downtime_limit_ms = 300,
    });

    private static string Suspend(string id) => Json(new { command_id = id, type = "suspend", vm = QemuLab.Vm, to = "/tmp/presence-forged.state" });

    private enum Answer
    {
        Failed,
        Recorded,
        LoggedOnly,
    }

    private sealed record BadCommand(string Kind, string CommandId, string? Reason, Func<Task> Send, Answer Answer = Answer.Failed);
}
