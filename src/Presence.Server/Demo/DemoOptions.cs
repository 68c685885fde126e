using NodaTime;
using Presence.Domain.House;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Demo;

/// <summary>
/// The `Demo` section: how fast the story plays and what the simulated computers have. The house file says
/// nothing about a computer's memory or battery (its agent reports them), so the demo supplies them here.
/// </summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>The whole story this many times faster: pauses are divided by it, simulated migrations sped up by it.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>
    /// How much faster than its link a simulated agent moves memory at <see cref="Speed"/> 1: 20 moves an 8 GiB
    /// VM over 1 Gbit/s in about 3.5 s instead of 70 s.
    /// </summary>
    public double AgentSpeedFactor { get; set; } = 20;

    /// <summary>Per computer, by host name; what is not given comes from the computer's role.</summary>
    public Dictionary<string, ComputerOptions> Computers { get; set; } = [];

    /// <summary>
    /// The house's hold-downs (House:Policy:HoldDown) are multiplied by this, and divided by <see cref="Speed"/>, so
    /// that a story of a dozen seat changes fits a minute: 0.1 turns 3s/20s/30s into 300ms/2s/3s. 1 keeps them.
    /// </summary>
    public double HoldDownScale { get; set; } = 0.1;

    public double EffectiveAgentSpeed => AgentSpeedFactor * Speed;

    /// <summary>
    /// A hold-down of the house (<paramref name="configured"/>, read from <paramref name="key"/>) at the demo's pace,
    /// written back as a duration setting. Never rounded down to nothing: a hold-down that was there stays a wait.
    /// </summary>
    public string HoldDown(string configured, string key)
    {
        var house = DurationText.Parse(configured, key);
        if (house <= Duration.Zero)
        {
            return DurationText.Format(Duration.Zero);
        }

        var scaled = Math.Max(10, Math.Round(house.TotalMilliseconds * HoldDownScale / Speed));
        return DurationText.Format(Duration.FromMilliseconds(scaled));
    }

    public ComputerOptions Computer(HostSpec host)
    {
        var given = Computers.GetValueOrDefault(host.Name) ?? new ComputerOptions();
        var role = ComputerOptions.ForRole(host.Role);
        return new ComputerOptions
        {
            Cpus = given.Cpus ?? role.Cpus,
            MemoryMb = given.MemoryMb ?? role.MemoryMb,
            OnBattery = given.OnBattery ?? role.OnBattery,
            BatteryPercent = given.BatteryPercent ?? role.BatteryPercent,
        };
    }

    /// <summary>Binds and checks the section; a bad value stops the demo with a line naming its key.</summary>
    public static DemoOptions Read(IConfiguration configuration)
    {
        DemoOptions options;
        try
        {
            options = configuration.GetSection(Section).Get<DemoOptions>() ?? new DemoOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new StartupException($"invalid settings:\n  {e.Message}{(e.InnerException is null ? "" : $" ({e.InnerException.Message})")}");
        }

        options.ThrowIfInvalid();
        return options;
    }

    public void ThrowIfInvalid()
    {
        var failures = new List<string>();
        if (!(Speed > 0) || double.IsInfinity(Speed))
        {
            failures.Add($"Demo:Speed must be a number > 0, got {Speed}");
        }

        if (!(HoldDownScale > 0) || double.IsInfinity(HoldDownScale))
        {
            failures.Add($"Demo:HoldDownScale must be a number > 0, got {HoldDownScale}");
        }

        if (!(AgentSpeedFactor > 0) || double.IsInfinity(AgentSpeedFactor))
        {
            failures.Add($"Demo:AgentSpeedFactor must be a number > 0, got {AgentSpeedFactor}");
        }

        foreach (var (name, computer) in Computers)
        {
            if (computer.MemoryMb is < 1)
            {
                failures.Add($"Demo:Computers:{name}:MemoryMb must be > 0, got {computer.MemoryMb}");
            }

            if (computer.Cpus is < 1)
            {
                failures.Add($"Demo:Computers:{name}:Cpus must be > 0, got {computer.Cpus}");
            }

            if (computer.BatteryPercent is < 0 or > 100)
            {
                failures.Add($"Demo:Computers:{name}:BatteryPercent must be 0–100, got {computer.BatteryPercent}");
            }
        }

        if (failures.Count > 0)
        {
            throw new StartupException("invalid settings:\n  " + string.Join("\n  ", failures));
        }
    }
}

/// <summary>What one simulated computer has; null means the role's default.</summary>
public sealed class ComputerOptions
{
    public int? Cpus { get; set; }
    public int? MemoryMb { get; set; }

    /// <summary>Whether the agent starts on battery; the story unplugs the laptop itself.</summary>
    public bool? OnBattery { get; set; }

    /// <summary>The charge the agent reports, and the one the laptop's power signal carries when it is unplugged.</summary>
    public int? BatteryPercent { get; set; }

    /// <summary>A house of the story's kind: a big server in the basement, smaller desktops and a laptop.</summary>
    public static ComputerOptions ForRole(HostRole role) => role switch
    {
        HostRole.Server => new() { Cpus = 16, MemoryMb = 65536, OnBattery = false },
        HostRole.Laptop => new() { Cpus = 8, MemoryMb = 16384, OnBattery = false, BatteryPercent = 90 },
        _ => new() { Cpus = 8, MemoryMb = 16384, OnBattery = false },
    };
}
