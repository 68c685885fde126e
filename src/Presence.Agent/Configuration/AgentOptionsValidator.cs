using Presence.Contracts.Wire;

namespace Presence.Agent.Configuration;

/// <summary>A configuration value that stops the agent from starting. The message is one line naming the key.</summary>
public sealed class AgentOptionsException(string message) : Exception(message);

public static class AgentOptionsValidator
{
    private const string NamePattern = "[a-z0-9][a-z0-9_-]{0,62}";

    /// <summary>Throws <see cref="AgentOptionsException"/> for the first value that is wrong.</summary>
    public static void ThrowIfInvalid(AgentOptions options)
    {
        if (FirstError(options) is { } error)
        {
            throw new AgentOptionsException(error);
        }
    }

    public static string? FirstError(AgentOptions o)
    {
        const string a = AgentOptions.Section;

        if (!Topics.IsValidName(o.Host))
        {
            return $"{a}:Host '{o.Host}' must match {NamePattern}";
        }

        if (o.Hypervisor is not ("simulated" or "libvirt"))
        {
            return o.Hypervisor is "qemu"
                ? $"{a}:Hypervisor '{o.Hypervisor}' has no driver yet; 'simulated' and 'libvirt' are available"
                : $"{a}:Hypervisor '{o.Hypervisor}' must be simulated or libvirt (qemu is planned)";
        }

        if (string.IsNullOrWhiteSpace(o.Mqtt.Host))
        {
            return $"{a}:Mqtt:Host must name the broker's host or address";
        }

        if (o.Mqtt.Port is < 1 or > 65535)
        {
            return $"{a}:Mqtt:Port {o.Mqtt.Port} must be between 1 and 65535";
        }

        try
        {
            _ = new Topics(o.Mqtt.TopicRoot);
        }
        catch (ArgumentException)
        {
            return $"{a}:Mqtt:TopicRoot '{o.Mqtt.TopicRoot}' must be non-empty, without + or # or a trailing /";
        }

        if (o.Mqtt.ReconnectDelay <= TimeSpan.Zero)
        {
            return $"{a}:Mqtt:ReconnectDelay {o.Mqtt.ReconnectDelay} must be positive";
        }

        if (o.Mqtt.SessionExpiry < TimeSpan.Zero || o.Mqtt.SessionExpiry.TotalSeconds > uint.MaxValue)
        {
            return $"{a}:Mqtt:SessionExpiry {o.Mqtt.SessionExpiry} must be zero or positive";
        }

        if (o.Resources.Cpus < 1)
        {
            return $"{a}:Resources:Cpus {o.Resources.Cpus} must be at least 1";
        }

        if (o.Resources.MemoryMb < 0)
        {
            return $"{a}:Resources:MemoryMb {o.Resources.MemoryMb} must not be negative";
        }

        if (o.Resources.LinkMbps is < 0)
        {
            return $"{a}:Resources:LinkMbps {o.Resources.LinkMbps} must not be negative";
        }

        if (o.Resources.BatteryPercent is < 0 or > 100)
        {
            return $"{a}:Resources:BatteryPercent {o.Resources.BatteryPercent} must be between 0 and 100";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < o.Vms.Count; i++)
        {
            var vm = o.Vms[i];
            var key = $"{a}:Vms:{i}";
            if (!Topics.IsValidName(vm.Name))
            {
                return $"{key}:Name '{vm.Name}' must match {NamePattern}";
            }

            if (!seen.Add(vm.Name))
            {
                return $"{key}:Name '{vm.Name}' is listed twice";
            }

            if (vm.MemoryMb < 1)
            {
                return $"{key}:MemoryMb {vm.MemoryMb} must be at least 1";
            }

            if (vm.State is not ("running" or "stopped"))
            {
                return $"{key}:State '{vm.State}' must be running or stopped";
            }
        }

        if (o.RememberedCommands < 1)
        {
            return $"{a}:RememberedCommands {o.RememberedCommands} must be at least 1";
        }

        if (o.Simulated.BandwidthMbps < 1)
        {
            return $"{a}:Simulated:BandwidthMbps {o.Simulated.BandwidthMbps} must be at least 1";
        }

        if (o.Simulated.ProgressInterval <= TimeSpan.Zero)
        {
            return $"{a}:Simulated:ProgressInterval {o.Simulated.ProgressInterval} must be positive";
        }

        if (o.Simulated.DirtyPagesRate < 0)
        {
            return $"{a}:Simulated:DirtyPagesRate {o.Simulated.DirtyPagesRate} must not be negative";
        }

        if (!(o.Simulated.SpeedFactor > 0) || double.IsInfinity(o.Simulated.SpeedFactor))
        {
            return $"{a}:Simulated:SpeedFactor {o.Simulated.SpeedFactor} must be a positive number";
        }

        if (o.Hypervisor == "libvirt" && LibvirtError(o.Libvirt) is { } libvirt)
        {
            return libvirt;
        }

        foreach (var (name, sensor) in new[] { ("Logind", o.Sensors.Logind), ("Lid", o.Sensors.Lid), ("Wifi", o.Sensors.Wifi), ("Power", o.Sensors.Power) })
        {
            if (sensor.Interval <= TimeSpan.Zero)
            {
                return $"{a}:Sensors:{name}:Interval {sensor.Interval} must be positive";
            }
        }

        return null;
    }

    private static string? LibvirtError(LibvirtOptions l)
    {
        const string k = AgentOptions.Section + ":Libvirt";
        if (string.IsNullOrWhiteSpace(l.VirshPath))
        {
            return $"{k}:VirshPath must name the virsh program";
        }

        if (string.IsNullOrWhiteSpace(l.ConnectionUri))
        {
            return $"{k}:ConnectionUri must be a libvirt URI such as qemu:///system";
        }

        if (!l.PeerUriTemplate.Contains("{host}", StringComparison.Ordinal))
        {
            return $"{k}:PeerUriTemplate '{l.PeerUriTemplate}' must contain {{host}}, e.g. qemu+ssh://{{host}}/system";
        }

        if (l.MigrationTimeout is { } timeout && timeout < TimeSpan.FromSeconds(1))
        {
            return $"{k}:MigrationTimeout {timeout} must be at least a second";
        }

        if (l.ProgressInterval <= TimeSpan.Zero)
        {
            return $"{k}:ProgressInterval {l.ProgressInterval} must be positive";
        }

        if (l.RefreshInterval <= TimeSpan.Zero)
        {
            return $"{k}:RefreshInterval {l.RefreshInterval} must be positive";
        }

        return null;
    }
}
