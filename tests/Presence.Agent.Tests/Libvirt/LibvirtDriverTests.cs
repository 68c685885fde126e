using Microsoft.Extensions.Logging.Abstractions;
using Presence.Agent.Configuration;
using Presence.Agent.Hypervisors;
using Presence.Agent.Hypervisors.Libvirt;
using Presence.Agent.Processes;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;

namespace Presence.Agent.Tests.Libvirt;

/// <summary>
/// The libvirt driver against a recorder that answers like virsh: the exact command lines it runs, how it reads
/// the answers, and what it does when virsh fails.
/// </summary>
public sealed class LibvirtDriverTests : IAsyncDisposable
{
    private const string Virsh = "virsh -c qemu:///system";
    private readonly string scratch = Directory.CreateTempSubdirectory("presence-libvirt-").FullName;
    private readonly RecordingRunner virsh = new();
    private readonly Dictionary<string, CommandResult> answers = new(StringComparer.Ordinal);
    private readonly LibvirtDriver driver;

    public LibvirtDriverTests()
    {
        answers[$"{Virsh} list --all"] = RecordingRunner.Ok(VirshSamples.ListHouse);
        answers[$"{Virsh} dominfo alice-desktop"] = RecordingRunner.Ok(VirshSamples.DominfoOf("alice-desktop", 2 * 1024 * 1024));
        answers[$"{Virsh} dominfo bob-music"] = RecordingRunner.Ok(VirshSamples.DominfoOf("bob-music", 1024 * 1024));
        answers[$"{Virsh} domdisplay alice-desktop"] = RecordingRunner.Ok("spice://127.0.0.1:5901\n");
        answers[$"{Virsh} domstate alice-desktop"] = RecordingRunner.Ok("running\n\n");
        answers[$"{Virsh} domstate bob-music"] = RecordingRunner.Ok("shut off\n\n");
        virsh.Answer = (line, _) => Task.FromResult(
            answers.TryGetValue(line, out var answer) ? answer : RecordingRunner.Error($"error: the test did not expect '{line}'"));
        driver = new LibvirtDriver(Options(), virsh, NullLogger.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await driver.DisposeAsync();
        Directory.Delete(scratch, recursive: true);
    }

    private static AgentOptions Options(Action<LibvirtOptions>? configure = null)
    {
        var options = new AgentOptions
        {
            Host = "basement",
            Hypervisor = "libvirt",
            Resources = { MemoryMb = 16384 },
            Libvirt = { ProgressInterval = TimeSpan.FromMilliseconds(10), RefreshInterval = TimeSpan.FromHours(1) },
        };
        configure?.Invoke(options.Libvirt);
        AgentOptionsValidator.ThrowIfInvalid(options);
        return options;
    }

    [Fact]
    public async Task Start_lists_the_domains_with_their_memory_and_display()
    {
        await driver.StartAsync(CancellationToken.None);

        Assert.Equal(
            [$"{Virsh} list --all", $"{Virsh} dominfo alice-desktop", $"{Virsh} domdisplay alice-desktop", $"{Virsh} dominfo bob-music"],
            virsh.Commands);
        Assert.Equal(
            [
                new VmInventory { Name = "alice-desktop", State = VmState.Running, MemoryMb = 2048, DisplayUri = "spice://basement:5901" },
                new VmInventory { Name = "bob-music", State = VmState.Stopped, MemoryMb = 1024 },
            ],
            driver.ListVms());
    }

    [Fact]
    public async Task A_failing_virsh_becomes_a_hypervisor_error_with_virshs_words()
    {
        answers[$"{Virsh} list --all"] = RecordingRunner.Error(
            "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n");

        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.StartAsync(CancellationToken.None));

        Assert.Equal(
            "could not list the domains on basement: error: failed to connect to the hypervisor\n"
            + "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
            error.Message);
    }

    [Fact]
    public async Task A_missing_virsh_is_a_hypervisor_error_too()
    {
        virsh.Answer = (_, _) => throw new ProgramNotFoundException("virsh");

        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.StartAsync(CancellationToken.None));

        Assert.Equal("cannot run virsh on basement: 'virsh' is not installed or not on PATH", error.Message);
    }

    [Fact]
    public async Task Prepare_incoming_checks_and_reserves_memory_and_answers_this_hosts_libvirt_uri()
    {
        answers[$"{Virsh} list --all"] = RecordingRunner.Ok(VirshSamples.ListNew.Replace("test", "other"));
        answers[$"{Virsh} dominfo other"] = RecordingRunner.Ok(VirshSamples.DominfoOf("other", 4 * 1024 * 1024));
        answers[$"{Virsh} domdisplay other"] = RecordingRunner.Error("error: No graphical display found");
        await driver.StartAsync(CancellationToken.None);

        var uri = await driver.PrepareIncomingAsync(new IncomingRequest("alice-desktop", 8192, null), CancellationToken.None);

        Assert.Equal("qemu+ssh://basement/system", uri);
        Assert.Contains(new VmInventory { Name = "alice-desktop", State = VmState.Incoming, MemoryMb = 8192 }, driver.ListVms());

        // Only 16384 − 4096 − 8192 MB are left.
        var full = await Assert.ThrowsAsync<HypervisorException>(
            () => driver.PrepareIncomingAsync(new IncomingRequest("carol-desktop", 8192, null), CancellationToken.None));
        Assert.Equal("basement has 4096 MB free; carol-desktop needs 8192 MB", full.Message);

        await driver.AbortIncomingAsync("alice-desktop", CancellationToken.None);
        Assert.DoesNotContain(driver.ListVms(), v => v.Name == "alice-desktop");
    }

    [Fact]
    public async Task Prepare_incoming_refuses_a_domain_already_running_here()
    {
        var error = await Assert.ThrowsAsync<HypervisorException>(
            () => driver.PrepareIncomingAsync(new IncomingRequest("alice-desktop", 2048, null), CancellationToken.None));

        Assert.Equal("alice-desktop is already running on basement", error.Message);
    }

    [Fact]
    public async Task A_vm_defined_but_stopped_here_may_arrive_and_shows_as_incoming()
    {
        var uri = await driver.PrepareIncomingAsync(new IncomingRequest("bob-music", 1024, null), CancellationToken.None);

        Assert.Equal("qemu+ssh://basement/system", uri);
        Assert.Equal(VmState.Incoming, Assert.Single(driver.ListVms(), v => v.Name == "bob-music").State);
    }

    [Fact]
    public async Task An_incoming_vm_that_libvirt_then_runs_here_has_arrived()
    {
        answers[$"{Virsh} list --all"] = RecordingRunner.Ok(VirshSamples.ListHouse.Replace("alice-desktop", "alice-elsewhere"));
        answers[$"{Virsh} dominfo alice-elsewhere"] = RecordingRunner.Ok(VirshSamples.DominfoOf("alice-elsewhere", 1024 * 1024));
        answers[$"{Virsh} domdisplay alice-elsewhere"] = RecordingRunner.Error("error: No graphical display found");
        await driver.PrepareIncomingAsync(new IncomingRequest("alice-desktop", 2048, null), CancellationToken.None);

        answers[$"{Virsh} list --all"] = RecordingRunner.Ok(VirshSamples.ListHouse);
        await driver.RefreshAsync(CancellationToken.None);

        Assert.Equal(VmState.Running, Assert.Single(driver.ListVms(), v => v.Name == "alice-desktop").State);
    }

    [Fact]
    public async Task Migrate_runs_virsh_migrate_sets_the_downtime_and_reports_growing_progress()
    {
        var driverWithLink = new LibvirtDriver(
            Options(l => { l.MigrateUriTemplate = "tcp://{host}"; l.MigrationTimeout = TimeSpan.FromMinutes(5); }), virsh, NullLogger.Instance);
        var migration = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var polls = 0;
        virsh.Answer = (line, _) =>
        {
            if (line.Contains(" migrate ", StringComparison.Ordinal))
            {
                return migration.Task;
            }

            if (line == $"{Virsh} domjobinfo alice-desktop")
            {
                var processed = ++polls * 400;
                if (processed >= 2048)
                {
                    migration.TrySetResult(RecordingRunner.Ok("\rMigration: [100 %]\n"));
                    return Task.FromResult(RecordingRunner.Ok(VirshSamples.JobInfoNone));
                }

                return Task.FromResult(RecordingRunner.Ok(VirshSamples.JobInfoAt(processed)));
            }

            if (line == $"{Virsh} list --all")
            {
                // Gone from here once it has moved: --undefinesource.
                return Task.FromResult(RecordingRunner.Ok(migration.Task.IsCompleted ? "" : VirshSamples.ListHouse));
            }

            return Task.FromResult(answers.TryGetValue(line, out var answer) ? answer : RecordingRunner.Ok());
        };
        var reported = new List<MigrationProgress>();

        var result = await driverWithLink.MigrateAsync(
            new MigrationRequest("alice-desktop", "imac", "qemu+ssh://imac/system", 1000, TimeSpan.FromMilliseconds(250)),
            p => { reported.Add(p); return Task.CompletedTask; },
            CancellationToken.None);

        var lines = virsh.Commands;
        Assert.Equal($"{Virsh} domstate alice-desktop", lines[0]);
        Assert.Equal(
            $"{Virsh} migrate --live --persistent --undefinesource --verbose alice-desktop qemu+ssh://imac/system"
            + " --migrateuri tcp://imac --bandwidth 119 --timeout 300",
            lines[1]);
        Assert.Single(lines, l => l == $"{Virsh} migrate-setmaxdowntime alice-desktop 250");
        Assert.True(reported.Count >= 5, $"{reported.Count} progress reports");
        Assert.Equal(reported.Select(p => p.TransferredBytes).Order(), reported.Select(p => p.TransferredBytes));
        Assert.Equal(0, reported[^1].RemainingBytes);
        Assert.Equal(2048L << 20, reported[^1].TotalBytes);
        Assert.Equal(Math.Round(110.0 * (1 << 20) * 8 / 1e6, 1), reported[0].Mbps);
        Assert.Equal(800, reported[0].DirtyPagesRate);
        Assert.Equal(TimeSpan.FromMilliseconds(120), result.Downtime);
        Assert.DoesNotContain(driverWithLink.ListVms(), v => v.Name == "alice-desktop");
        await driverWithLink.DisposeAsync();
    }

    [Fact]
    public async Task Migrate_without_limits_passes_no_limits()
    {
        answers[$"{Virsh} migrate --live --persistent --undefinesource --verbose alice-desktop qemu+ssh://imac/system"] = RecordingRunner.Ok();

        await driver.MigrateAsync(
            new MigrationRequest("alice-desktop", "imac", "qemu+ssh://imac/system", null, null), _ => Task.CompletedTask, CancellationToken.None);

        Assert.DoesNotContain(virsh.Commands, l => l.Contains("setmaxdowntime", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_migration_is_an_error_with_virshs_words_and_the_vm_stays()
    {
        await driver.StartAsync(CancellationToken.None);
        answers[$"{Virsh} migrate --live --persistent --undefinesource --verbose alice-desktop qemu+ssh://imac/system"] =
            RecordingRunner.Error("error: operation failed: Failed to connect to remote libvirt URI qemu+ssh://imac/system: Cannot recv data: Host key verification failed.: Connection reset by peer\n");

        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.MigrateAsync(
            new MigrationRequest("alice-desktop", "imac", "qemu+ssh://imac/system", null, null), _ => Task.CompletedTask, CancellationToken.None));

        Assert.Equal(
            "could not migrate alice-desktop to imac on basement: error: operation failed: Failed to connect to remote libvirt URI "
            + "qemu+ssh://imac/system: Cannot recv data: Host key verification failed.: Connection reset by peer",
            error.Message);
        Assert.Equal(VmState.Running, driver.ListVms().Single(v => v.Name == "alice-desktop").State);
    }

    [Fact]
    public async Task Only_a_running_or_paused_vm_is_migrated()
    {
        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.MigrateAsync(
            new MigrationRequest("bob-music", "imac", "qemu+ssh://imac/system", null, null), _ => Task.CompletedTask, CancellationToken.None));

        Assert.Equal("bob-music is shut off on basement; only a running or paused VM can be migrated", error.Message);
        Assert.DoesNotContain(virsh.Commands, l => l.Contains(" migrate ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_aborts_the_job_with_domjobabort_and_ends_as_cancelled()
    {
        var migration = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        virsh.Answer = (line, _) =>
        {
            if (line.Contains(" migrate ", StringComparison.Ordinal))
            {
                return migration.Task;
            }

            if (line == $"{Virsh} domjobabort alice-desktop")
            {
                migration.TrySetResult(RecordingRunner.Error("error: operation aborted: migration out job: canceled by client\n"));
                return Task.FromResult(RecordingRunner.Ok());
            }

            return Task.FromResult(line == $"{Virsh} domjobinfo alice-desktop"
                ? RecordingRunner.Ok(VirshSamples.JobInfoAt(100))
                : answers.TryGetValue(line, out var answer) ? answer : RecordingRunner.Ok());
        };
        using var cancel = new CancellationTokenSource();

        var migrating = driver.MigrateAsync(
            new MigrationRequest("alice-desktop", "imac", "qemu+ssh://imac/system", null, null),
            _ => { cancel.Cancel(); return Task.CompletedTask; },
            cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => migrating);
        Assert.Single(virsh.Commands, l => l == $"{Virsh} domjobabort alice-desktop");
    }

    [Fact]
    public async Task Suspend_saves_to_the_file_and_undefines_the_domain_here()
    {
        var file = Path.Combine(scratch, "shared", "alice-desktop.save");
        answers[$"{Virsh} save alice-desktop {file}"] = RecordingRunner.Ok("\nDomain 'alice-desktop' saved to " + file + "\n");
        answers[$"{Virsh} undefine alice-desktop"] = RecordingRunner.Ok("Domain 'alice-desktop' has been undefined\n");

        await driver.SuspendAsync("alice-desktop", file, CancellationToken.None);

        Assert.Equal(
            [$"{Virsh} domstate alice-desktop", $"{Virsh} save alice-desktop {file}", $"{Virsh} undefine alice-desktop"],
            virsh.Commands.Take(3));
        Assert.True(Directory.Exists(Path.GetDirectoryName(file)));
    }

    [Fact]
    public async Task A_transient_domain_is_gone_once_saved_and_needs_no_undefine()
    {
        var file = Path.Combine(scratch, "alice-desktop.save");
        var saved = false;
        virsh.Answer = (line, _) =>
        {
            if (line == $"{Virsh} save alice-desktop {file}")
            {
                saved = true;
                return Task.FromResult(RecordingRunner.Ok($"Domain 'alice-desktop' saved to {file}\n"));
            }

            return Task.FromResult(
                saved && line.EndsWith(" alice-desktop", StringComparison.Ordinal) ? RecordingRunner.Error("error: failed to get domain 'alice-desktop'")
                : answers.TryGetValue(line, out var answer) ? answer : RecordingRunner.Ok());
        };

        await driver.SuspendAsync("alice-desktop", file, CancellationToken.None);

        Assert.Equal($"{Virsh} undefine alice-desktop", virsh.Commands[2]);
    }

    [Fact]
    public async Task A_failed_save_is_an_error_and_nothing_is_undefined()
    {
        var file = Path.Combine(scratch, "alice-desktop.save");
        answers[$"{Virsh} save alice-desktop {file}"] = RecordingRunner.Error($"error: Failed to save domain 'alice-desktop' to {file}\nerror: No space left on device\n");

        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.SuspendAsync("alice-desktop", file, CancellationToken.None));

        Assert.StartsWith($"could not save alice-desktop to '{file}' on basement: error: Failed to save domain", error.Message);
        Assert.DoesNotContain(virsh.Commands, l => l.Contains("undefine", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resume_restores_from_the_file_defines_the_domain_and_removes_the_file()
    {
        var file = Path.Combine(scratch, "alice-desktop.save");
        await File.WriteAllTextAsync(file, "saved state");
        answers[$"{Virsh} list --all"] = RecordingRunner.Ok("");
        answers[$"{Virsh} save-image-dumpxml {file} --security-info"] = RecordingRunner.Ok("<domain type='kvm'>\n  <name>alice-desktop</name>\n</domain>\n");
        answers[$"{Virsh} restore {file}"] = RecordingRunner.Ok($"Domain restored from {file}\n");
        virsh.Answer = (line, _) => Task.FromResult(
            line.StartsWith($"{Virsh} define ", StringComparison.Ordinal) ? RecordingRunner.Ok("Domain 'alice-desktop' defined\n")
            : answers.TryGetValue(line, out var answer) ? answer : RecordingRunner.Error($"error: unexpected '{line}'"));

        await driver.ResumeAsync("alice-desktop", file, CancellationToken.None);

        var lines = virsh.Commands;
        Assert.Equal($"{Virsh} save-image-dumpxml {file} --security-info", lines[1]);
        Assert.Equal($"{Virsh} restore {file}", lines[2]);
        Assert.StartsWith($"{Virsh} define ", lines[3]);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Resume_refuses_a_file_holding_another_vm()
    {
        var file = Path.Combine(scratch, "bob.save");
        await File.WriteAllTextAsync(file, "saved state");
        answers[$"{Virsh} list --all"] = RecordingRunner.Ok("");
        answers[$"{Virsh} save-image-dumpxml {file} --security-info"] = RecordingRunner.Ok("<domain type='kvm'>\n  <name>bob-music</name>\n</domain>\n");

        var error = await Assert.ThrowsAsync<HypervisorException>(() => driver.ResumeAsync("alice-desktop", file, CancellationToken.None));

        Assert.Equal($"'{file}' does not hold the state of alice-desktop", error.Message);
        Assert.DoesNotContain(virsh.Commands, l => l.Contains("restore", StringComparison.Ordinal));
    }

    [Fact]
    public void Libvirt_options_are_checked()
    {
        var options = Options();
        options.Libvirt.PeerUriTemplate = "qemu+ssh://imac/system";

        Assert.Equal(
            "Agent:Libvirt:PeerUriTemplate 'qemu+ssh://imac/system' must contain {host}, e.g. qemu+ssh://{host}/system",
            AgentOptionsValidator.FirstError(options));
    }
}
