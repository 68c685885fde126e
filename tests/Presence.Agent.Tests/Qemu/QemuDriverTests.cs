using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Presence.Agent.Hypervisors;
using Presence.Agent.Hypervisors.Qemu;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Qemu;

/// <summary>
/// The qemu driver against real qemu (TCG, 64 MiB guests that dirty memory), two drivers on 127.0.0.1 in the
/// place of two computers. One class, so its guests never compete with each other for the two cores.
/// </summary>
[Collection(QemuLab.Collection)]
public sealed class QemuDriverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Vm = QemuLab.Vm;
    private QemuLab lab = null!;

    public async Task InitializeAsync() => lab = await QemuLab.StartAsync(output);

    public async Task DisposeAsync() => await lab.DisposeAsync();

    [Fact]
    public async Task The_qmp_client_talks_to_qemu_and_keeps_its_events()
    {
        var (process, socket) = lab.StartQemu("plain");
        await using var qmp = await ConnectAsync(socket, process);

        Assert.Matches(@"^\d+\.\d+\.\d+$", qmp.Version);
        Assert.Equal("running", (string?)(await qmp.ExecuteAsync("query-status", CancellationToken.None))?["status"]);
        Assert.True(await QemuLab.GuestRunsAsync(args => qmp.ExecuteAsync("human-monitor-command", args, CancellationToken.None)),
            "the boot sector's loop changes memory");

        var refused = await Assert.ThrowsAsync<QmpException>(() => qmp.ExecuteAsync("no-such-command", CancellationToken.None));
        Assert.Equal("CommandNotFound", refused.ErrorClass);

        await qmp.ExecuteAsync("stop", CancellationToken.None);
        Assert.Equal("paused", (string?)(await qmp.ExecuteAsync("query-status", CancellationToken.None))?["status"]);
        await WaitUntilAsync(() => qmp.Events.Any(e => e.Name == "STOP"), "a STOP event");

        await qmp.ExecuteAsync("quit", CancellationToken.None);
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<IOException>(() => qmp.ExecuteAsync("query-status", CancellationToken.None));
    }

    [Fact]
    public async Task A_running_guest_moves_to_another_qemu_with_progress_and_times()
    {
        var basement = await lab.StartDriverAsync("basement", "running");
        var imac = await lab.StartDriverAsync("imac", "absent");
        Assert.Equal(VmState.Running, Assert.Single(basement.ListVms()).State);
        Assert.Empty(imac.ListVms());

        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);
        Assert.Matches(@"^tcp:127\.0\.0\.1:\d+$", uri);
        Assert.Equal(VmState.Incoming, Assert.Single(imac.ListVms()).State);
        Assert.Equal(uri, await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None));

        var progress = new List<MigrationProgress>();
        var clock = Stopwatch.StartNew();
        // 20 Mbit/s: about half a second, long enough for several progress reports.
        var result = await basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: 20, DowntimeLimit: TimeSpan.FromMilliseconds(300)),
            p =>
            {
                lock (progress)
                {
                    progress.Add(p);
                }

                return Task.CompletedTask;
            },
            CancellationToken.None);
        output.WriteLine($"migrated in {clock.ElapsedMilliseconds} ms: downtime {result.Downtime.TotalMilliseconds} ms, total {result.TotalTime.TotalMilliseconds} ms, {progress.Count} progress reports");

        Assert.True(result.TotalTime > TimeSpan.Zero);
        Assert.InRange(result.Downtime, TimeSpan.Zero, result.TotalTime);
        Assert.True(progress.Count >= 2, $"{progress.Count} progress reports");
        var transferred = progress.Select(p => p.TransferredBytes ?? 0).ToList();
        Assert.Equal(transferred.Order(), transferred);
        Assert.True(transferred[^1] > transferred[0], "transferred bytes grow");
        Assert.All(progress, p => Assert.True(p.TotalBytes >= QemuLab.MemoryMb * 1024L * 1024));

        Assert.Empty(basement.ListVms());
        Assert.Equal("postmigrate", await QemuLab.StatusAsync(basement));
        await WaitUntilAsync(() => imac.ListVms() is [{ State: VmState.Running }], "the guest running on imac");
        Assert.Equal("running", await QemuLab.StatusAsync(imac));
        Assert.True(await QemuLab.GuestRunsAsync(imac), "the guest goes on changing memory on imac");
    }

    /// <summary>
    /// The production default (every other test here keeps the paused source for inspection): once the migration has
    /// completed the source qemu quits, so the guest runs on exactly one computer and no stale copy can be resumed.
    /// </summary>
    [Fact]
    public async Task By_default_the_source_qemu_quits_after_a_completed_migration()
    {
        var basement = await lab.StartDriverAsync("basement", "running", q => q.KeepMigratedSource = false);
        var imac = await lab.StartDriverAsync("imac", "absent", q => q.KeepMigratedSource = false);
        var source = Assert.Single(basement.StartedProcessIds);
        Assert.False(new Presence.Agent.Configuration.QemuOptions().KeepMigratedSource, "the default quits the source");

        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);
        await basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: null, DowntimeLimit: TimeSpan.FromMilliseconds(300)),
            _ => Task.CompletedTask, CancellationToken.None);

        Assert.True(Exited(source, TimeSpan.FromSeconds(15)), "the source qemu has quit");
        Assert.Empty(basement.ListVms());
        await Assert.ThrowsAsync<InvalidOperationException>(() => basement.ExecuteAsync(Vm, "query-status"));
        await WaitUntilAsync(() => imac.ListVms() is [{ State: VmState.Running }], "the guest running on imac");
        Assert.True(await QemuLab.GuestRunsAsync(imac), "the guest goes on changing memory on imac");
    }

    [Fact]
    public async Task When_the_target_dies_mid_migration_the_guest_runs_on_at_the_source()
    {
        var basement = await lab.StartDriverAsync("basement", "running");
        var imac = await lab.StartDriverAsync("imac", "absent");
        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);
        var target = Assert.Single(imac.StartedProcessIds);

        var killed = false;
        // 8 Mbit/s: seconds to go, so the target is killed while pages are still flowing.
        var failure = await Assert.ThrowsAsync<HypervisorException>(() => basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: 8, DowntimeLimit: null),
            p =>
            {
                if (!killed && p.TransferredBytes > 0)
                {
                    killed = true;
                    QemuLab.Kill(target);
                }

                return Task.CompletedTask;
            },
            CancellationToken.None));
        output.WriteLine(failure.Message);

        Assert.True(killed);
        Assert.StartsWith($"migration of {Vm} to imac failed: ", failure.Message);
        Assert.Equal(VmState.Running, Assert.Single(basement.ListVms()).State);
        Assert.Equal("running", await QemuLab.StatusAsync(basement));
        Assert.True(await QemuLab.GuestRunsAsync(basement));
        await WaitUntilAsync(() => imac.ListVms().Count == 0, "imac forgets the dead incoming qemu");
    }

    [Fact]
    public async Task Migrating_to_an_incoming_nobody_prepared_fails_and_the_guest_runs_on()
    {
        var basement = await lab.StartDriverAsync("basement", "running");
        var port = FreePort();

        var failure = await Assert.ThrowsAsync<HypervisorException>(() => basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", $"tcp:127.0.0.1:{port}", MaxBandwidthMbps: null, DowntimeLimit: null),
            _ => Task.CompletedTask,
            CancellationToken.None));
        output.WriteLine(failure.Message);

        Assert.Contains("refused", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(VmState.Running, Assert.Single(basement.ListVms()).State);
        Assert.Equal("running", await QemuLab.StatusAsync(basement));
        Assert.True(await QemuLab.GuestRunsAsync(basement));
    }

    [Fact]
    public async Task A_cancelled_migration_leaves_the_guest_running_at_the_source_and_the_incoming_can_be_aborted()
    {
        var basement = await lab.StartDriverAsync("basement", "running");
        var imac = await lab.StartDriverAsync("imac", "absent");
        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        // 2 Mbit/s: would take many seconds, and never converge with this guest's dirty pages.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: 2, DowntimeLimit: null),
            p =>
            {
                if (p.TransferredBytes > 0)
                {
                    cancel.Cancel();
                }

                return Task.CompletedTask;
            },
            cancel.Token));

        Assert.Equal(VmState.Running, Assert.Single(basement.ListVms()).State);
        Assert.Equal("running", await QemuLab.StatusAsync(basement));
        Assert.True(await QemuLab.GuestRunsAsync(basement));

        var waiting = Assert.Single(imac.StartedProcessIds);
        await imac.AbortIncomingAsync(Vm, CancellationToken.None);
        Assert.Empty(imac.ListVms());
        Assert.True(Exited(waiting), "abort_incoming ends the waiting qemu");
        await imac.AbortIncomingAsync(Vm, CancellationToken.None);
    }

    [Fact]
    public async Task A_guest_suspended_on_one_computer_resumes_on_another()
    {
        var imac = await lab.StartDriverAsync("imac", "running");
        var laptop = await lab.StartDriverAsync("laptop", "absent");
        var file = Path.Combine(lab.Scratch, "shared", "alice's desktop.state");

        await imac.SuspendAsync(Vm, file, CancellationToken.None);
        Assert.True(File.Exists(file));
        Assert.Empty(imac.ListVms());
        Assert.True(Exited(Assert.Single(imac.StartedProcessIds)), "the suspended qemu has quit");

        await laptop.ResumeAsync(Vm, file, CancellationToken.None);
        Assert.Equal(VmState.Running, Assert.Single(laptop.ListVms()).State);
        Assert.Equal("running", await QemuLab.StatusAsync(laptop));
        Assert.True(await QemuLab.GuestRunsAsync(laptop));
        Assert.False(File.Exists(file), "the saved state is deleted once resumed, so it cannot start a second copy");

        var missing = await Assert.ThrowsAsync<HypervisorException>(() => imac.ResumeAsync(Vm, file, CancellationToken.None));
        Assert.StartsWith($"no saved state of {Vm}", missing.Message);
    }

    [Fact]
    public async Task A_migration_that_does_not_converge_is_throttled_harder()
    {
        var basement = await lab.StartDriverAsync("basement", "running", q => q.ConvergenceRounds = 2);
        var imac = await lab.StartDriverAsync("imac", "absent");
        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        // 10 Mbit/s with 50 ms of downtime allowed: the guest's 144 busy pages never fit, so rounds go on.
        var migration = basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: 10, DowntimeLimit: TimeSpan.FromMilliseconds(50)),
            _ => Task.CompletedTask,
            cancel.Token);

        await WaitUntilAsync(async () => (int?)(await basement.ExecuteAsync(Vm, "query-migrate-parameters"))?["cpu-throttle-initial"] == 60,
            "the stronger throttle");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => migration);
        Assert.Equal("running", await QemuLab.StatusAsync(basement));
        await imac.AbortIncomingAsync(Vm, CancellationToken.None);
    }

    [Fact]
    public async Task A_migration_that_does_not_converge_finishes_in_post_copy_when_allowed()
    {
        var basement = await lab.StartDriverAsync("basement", "running", q => (q.ConvergenceRounds, q.Postcopy) = (2, true));
        var imac = await lab.StartDriverAsync("imac", "absent", q => q.Postcopy = true);
        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);

        // As in the throttling test, pre-copy alone would go on for ever.
        var result = await basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: 10, DowntimeLimit: TimeSpan.FromMilliseconds(50)),
            _ => Task.CompletedTask,
            CancellationToken.None);

        Assert.True(result.TotalTime > TimeSpan.Zero);
        Assert.Empty(basement.ListVms());
        await WaitUntilAsync(() => imac.ListVms() is [{ State: VmState.Running }], "the guest running on imac");
        Assert.True(await QemuLab.GuestRunsAsync(imac));
    }

    [Fact]
    public async Task A_vm_whose_qemu_will_not_start_is_reported_stopped()
    {
        var basement = await lab.StartDriverAsync("basement", "running", null, "-no-such-option");

        Assert.Equal(VmState.Stopped, Assert.Single(basement.ListVms()).State);
        var refused = await Assert.ThrowsAsync<HypervisorException>(() => basement.SuspendAsync(Vm, Path.Combine(lab.Scratch, "x.state"), CancellationToken.None));
        Assert.Equal($"{Vm} is stopped on basement, not running", refused.Message);
    }

    [Fact]
    public async Task A_qemu_left_running_by_an_earlier_agent_is_adopted_not_started_twice()
    {
        var first = await lab.StartDriverAsync("basement", "running");
        var pid = Assert.Single(first.StartedProcessIds);
        await first.DisposeAsync();

        var second = await lab.StartDriverAsync("basement", "running");

        Assert.Empty(second.StartedProcessIds);
        Assert.Equal(VmState.Running, Assert.Single(second.ListVms()).State);
        Assert.True(await QemuLab.GuestRunsAsync(second));
        Assert.False(Exited(pid, TimeSpan.Zero));

        // Not its child: the driver learns of the end from the QMP socket closing.
        QemuLab.Kill(pid);
        await WaitUntilAsync(() => second.ListVms() is [{ State: VmState.Stopped }], "the adopted VM stopped");
    }

    /// <summary>
    /// Both agents were killed and a migration finished inside qemu meanwhile: the source's next run finds its qemu
    /// in postmigrate and does not start the VM afresh (it would run twice), and the target's adopts the guest that
    /// arrived into a VM its configuration calls absent.
    /// </summary>
    [Fact]
    public async Task After_agents_were_killed_the_next_run_finds_the_guest_where_qemu_put_it_and_starts_no_second_copy()
    {
        var basement = await lab.StartDriverAsync("basement", "running");
        var imac = await lab.StartDriverAsync("imac", "absent");
        var source = Assert.Single(basement.StartedProcessIds);
        var uri = await imac.PrepareIncomingAsync(new IncomingRequest(Vm, QemuLab.MemoryMb, null), CancellationToken.None);
        var target = Assert.Single(imac.StartedProcessIds);
        await basement.MigrateAsync(
            new MigrationRequest(Vm, "imac", uri, MaxBandwidthMbps: null, DowntimeLimit: TimeSpan.FromMilliseconds(300)),
            _ => Task.CompletedTask, CancellationToken.None);
        await WaitUntilAsync(() => imac.ListVms() is [{ State: VmState.Running }], "the guest running on imac");

        await basement.AbandonAsync();
        await imac.AbandonAsync();
        Assert.False(Exited(source, TimeSpan.Zero), "a killed agent's qemu lives on");
        Assert.False(Exited(target, TimeSpan.Zero), "a killed agent's qemu lives on");

        var basementAgain = await lab.StartDriverAsync("basement", "running");
        var imacAgain = await lab.StartDriverAsync("imac", "absent");

        Assert.Empty(basementAgain.StartedProcessIds);
        Assert.Empty(basementAgain.ListVms());
        Assert.True(Exited(source), "the postmigrate source is quit: it holds nothing to keep");
        Assert.Empty(imacAgain.StartedProcessIds);
        Assert.Equal(VmState.Running, Assert.Single(imacAgain.ListVms()).State);
        Assert.True(await QemuLab.GuestRunsAsync(imacAgain), "the guest goes on changing memory on imac");
    }

    private async Task<QmpClient> ConnectAsync(string socket, QemuProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                return await QmpClient.ConnectAsync(socket, CancellationToken.None);
            }
            catch (Exception e) when ((e is SocketException or IOException) && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(25);
            }
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"never saw {what}");
            }

            await Task.Delay(20);
        }
    }

    private static bool Exited(int pid) => Exited(pid, TimeSpan.FromSeconds(5));

    private static bool Exited(int pid, TimeSpan patience)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.WaitForExit(patience);
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
