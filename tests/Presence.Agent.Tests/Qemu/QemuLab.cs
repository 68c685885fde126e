using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Agent.Hypervisors.Qemu;
using Presence.Agent.Tests.Support;
using Presence.Tests.Shared;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Qemu;

/// <summary>
/// Real qemu guests for one test: a boot sector written here, qemu drivers in the place of two computers, and
/// every qemu they started killed by pid at the end. Without qemu the tests fail (never skip): CI installs it.
/// </summary>
internal sealed class QemuLab : IAsyncDisposable
{
    /// <summary>One at a time: each guest keeps a core busy, and this machine may have only two.</summary>
    public const string Collection = "qemu";

    public const string Vm = "alice-desktop";
    public const int MemoryMb = 64;

    private readonly List<QemuDriver> drivers = [];
    private readonly List<int> ownProcesses = [];
    private readonly ILoggerFactory loggers;

    private readonly MachineLock machine;

    private QemuLab(ITestOutputHelper output, MachineLock machine)
    {
        this.machine = machine;
        Binary = QemuDriver.FindBinary("qemu-system-x86_64")
                 ?? throw new InvalidOperationException(
                     "qemu-system-x86_64 is not installed; these tests need it (apt-get install qemu-system-x86, as .ci/run does)");
        Scratch = Directory.CreateTempSubdirectory("presence-qemu-").FullName;
        BootImage = Path.Combine(Scratch, "boot.img");
        File.WriteAllBytes(BootImage, BootSector());
        loggers = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));
    }

    /// <summary>A lab once no other lab or browser runs on this machine, from any test project (<see cref="MachineLock"/>).</summary>
    public static async Task<QemuLab> StartAsync(ITestOutputHelper output)
    {
        var machine = await MachineLock.AcquireAsync();
        try
        {
            return new QemuLab(output, machine);
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    public string Binary { get; }
    public string Scratch { get; }
    public string BootImage { get; }

    /// <summary>The guest's arguments, identical on every host as a migration needs.</summary>
    public string[] GuestArguments => ["-drive", $"file={BootImage},format=raw", "-serial", "none", "-monitor", "none"];

    /// <summary>
    /// 16-bit code at 0x7c00 that forever increments one byte in each 4 KiB page from 64 KiB to 640 KiB: 144 pages
    /// dirtied over and over, so a migration has real rounds, and a byte (at 0x10000) that shows the guest runs.
    /// </summary>
    public static byte[] BootSector()
    {
        byte[] code =
        [
            0xFA,                   //       cli
            0xB8, 0x00, 0x10,       // outer: mov ax, 0x1000        ; segment of 64 KiB
            0x8E, 0xD8,             // inner: mov ds, ax
            0xFE, 0x06, 0x00, 0x00, //       inc byte [0]
            0x05, 0x00, 0x01,       //       add ax, 0x100         ; next 4 KiB page
            0x3D, 0x00, 0xA0,       //       cmp ax, 0xA000        ; up to 640 KiB
            0x72, 0xF2,             //       jb inner
            0xEB, 0xED,             //       jmp outer
        ];
        var sector = new byte[512];
        code.CopyTo(sector, 0);
        sector[510] = 0x55;
        sector[511] = 0xAA;
        return sector;
    }

    public AgentOptions Options(string host, string state, Action<QemuOptions>? tune = null, AgentOptions? basis = null)
    {
        var options = basis ?? new AgentOptions();
        options.Host = host;
        options.Hypervisor = "qemu";
        options.StateDirectory = Path.Combine(Scratch, host);
        options.Vms = [new VmOptions { Name = Vm, MemoryMb = MemoryMb, State = state, QemuArguments = [.. GuestArguments] }];
        options.Qemu = new QemuOptions
        {
            Binary = Binary,
            Accelerator = "tcg",
            PollInterval = TimeSpan.FromMilliseconds(50),
            KeepMigratedSource = true,
        };
        if (basis is null)
        {
            options.Resources = new ResourceOptions { Cpus = 2, MemoryMb = 1024, LinkMbps = 1000 };
        }

        tune?.Invoke(options.Qemu);
        return options;
    }

    public async Task<QemuDriver> StartDriverAsync(string host, string state, Action<QemuOptions>? tune = null, params string[] extraArguments)
    {
        var options = Options(host, state, tune);
        options.Vms[0].QemuArguments.AddRange(extraArguments);
        AgentOptionsValidator.ThrowIfInvalid(options);
        var driver = new QemuDriver(options, loggers.CreateLogger($"Presence.Agent.{host}"));
        drivers.Add(driver);
        await driver.StartAsync(CancellationToken.None);
        return driver;
    }

    /// <summary>A qemu started by the test itself (not a driver), with its QMP socket.</summary>
    public (QemuProcess Process, string Socket) StartQemu(string name)
    {
        var socket = Path.Combine(Scratch, name + ".qmp");
        var process = QemuProcess.Start(Binary,
            ["-accel", "tcg", "-m", MemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture), "-display", "none",
             "-qmp", $"unix:{socket},server=on,wait=off", .. GuestArguments]);
        ownProcesses.Add(process.Id);
        return (process, socket);
    }

    /// <summary>The byte the guest keeps incrementing, read twice some time apart: different when the guest runs.</summary>
    public static async Task<bool> GuestRunsAsync(Func<JsonObject, Task<JsonNode?>> hmp)
    {
        async Task<string> Read() => (string?)await hmp(new JsonObject { ["command-line"] = "xp /1bx 0x10000" }) ?? "";

        var first = await Read();
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(50);
            if (await Read() != first)
            {
                return true;
            }
        }

        return false;
    }

    public static Task<bool> GuestRunsAsync(QemuDriver driver) =>
        GuestRunsAsync(args => driver.ExecuteAsync(Vm, "human-monitor-command", args));

    public static async Task<string?> StatusAsync(QemuDriver driver) => (string?)(await driver.ExecuteAsync(Vm, "query-status"))?["status"];

    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(5000);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var driver in drivers)
        {
            await driver.DisposeAsync();
        }

        // The drivers leave running VMs running (as an agent restart should); a test leaves nothing behind.
        // Pid files catch the qemus of agents (whose drivers the test cannot reach) and adopted ones.
        var recorded = Directory.EnumerateFiles(Scratch, "*.pid", SearchOption.AllDirectories)
            .Select(f => int.TryParse(File.ReadAllText(f).Trim(), out var pid) ? pid : 0)
            .Where(pid => pid > 0);
        foreach (var pid in drivers.SelectMany(d => d.StartedProcessIds).Concat(ownProcesses).Concat(recorded).Distinct())
        {
            Kill(pid);
        }

        loggers.Dispose();
        machine.Dispose();
        try
        {
            Directory.Delete(Scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
