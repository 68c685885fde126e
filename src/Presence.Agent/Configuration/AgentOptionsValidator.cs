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

        if (o.Hypervisor is not ("simulated" or "qemu" or "libvirt"))
        {
            return $"{a}:Hypervisor '{o.Hypervisor}' must be simulated, qemu or libvirt";
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

        if (!string.IsNullOrWhiteSpace(o.Trust.ServerKey))
        {
            try
            {
                Contracts.Agents.HouseKey.ImportPublicKey(o.Trust.ServerKey).Dispose();
            }
            catch (FormatException e)
            {
                return $"{a}:Trust:ServerKey: {e.Message}; copy it from `presence server-key` on the server";
            }
        }

        if (o.Trust.MaxAge <= TimeSpan.Zero || o.Trust.MaxAge > TimeSpan.FromHours(1))
        {
            return $"{a}:Trust:MaxAge {o.Trust.MaxAge} must be positive and at most 1 hour";
        }

        if (o.Mqtt.Tls.Fingerprint is { Length: > 0 } pin && Presence.Contracts.Mqtt.MqttTls.NormalizeFingerprint(pin) is null)
        {
            return $"{a}:Mqtt:Tls:Fingerprint '{pin}' must be a SHA-256: 64 hex digits, colons allowed (what the server logs on start and `enroll` prints)";
        }

        if (Presence.Contracts.Mqtt.MqttTls.ProblemWithFiles($"{a}:Mqtt:Tls", o.Mqtt.Tls.CaFile, o.Mqtt.Tls.ClientCertificate, o.Mqtt.Tls.ClientKey, o.Mqtt.Tls.ClientCertificatePassword) is { } tlsProblem)
        {
            return tlsProblem;
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

            if (vm.State is not ("running" or "stopped" or "absent"))
            {
                return $"{key}:State '{vm.State}' must be running, stopped or absent";
            }

            if (vm.DisplayPort is < 5900 or > 5999)
            {
                return $"{key}:DisplayPort {vm.DisplayPort} must be between 5900 and 5999 (VNC displays :0 to :99)";
            }

            if (o.Hypervisor == "qemu" && vm.QmpSocket is { Length: > 0 } socket && Path.GetFullPath(socket).Length > 107)
            {
                return $"{key}:QmpSocket '{socket}' is longer than a unix socket path may be (107 bytes)";
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

        if (o.Hypervisor == "qemu" && QemuError(o) is { } qemu)
        {
            return qemu;
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

    private static string? QemuError(AgentOptions o)
    {
        const string q = $"{AgentOptions.Section}:Qemu";
        var qemu = o.Qemu;
        if (string.IsNullOrWhiteSpace(qemu.Binary))
        {
            return $"{q}:Binary must name the qemu program, e.g. qemu-system-x86_64";
        }

        if (Presence.Agent.Hypervisors.Qemu.QemuDriver.FindBinary(qemu.Binary) is null)
        {
            return $"{q}:Binary '{qemu.Binary}' is not an executable file nor found on PATH (Debian: apt-get install qemu-system-x86)";
        }

        if (string.IsNullOrWhiteSpace(qemu.MigrationAddress) || qemu.MigrationAddress.Contains(':'))
        {
            return $"{q}:MigrationAddress '{qemu.MigrationAddress}' must be a host name or IPv4 address this host is reached at";
        }

        if (qemu.PollInterval <= TimeSpan.Zero)
        {
            return $"{q}:PollInterval {qemu.PollInterval} must be positive";
        }

        if (qemu.DowntimeLimit <= TimeSpan.Zero)
        {
            return $"{q}:DowntimeLimit {qemu.DowntimeLimit} must be positive";
        }

        if (qemu.ConvergenceRounds < 1)
        {
            return $"{q}:ConvergenceRounds {qemu.ConvergenceRounds} must be at least 1";
        }

        if (qemu.StrongThrottleInitial is < 1 or > 99)
        {
            return $"{q}:StrongThrottleInitial {qemu.StrongThrottleInitial} must be between 1 and 99";
        }

        if (qemu.StrongThrottleIncrement is < 1 or > 99)
        {
            return $"{q}:StrongThrottleIncrement {qemu.StrongThrottleIncrement} must be between 1 and 99";
        }

        if (qemu.StartTimeout <= TimeSpan.Zero)
        {
            return $"{q}:StartTimeout {qemu.StartTimeout} must be positive";
        }

        var run = Presence.Agent.Hypervisors.Qemu.QemuDriver.RunDirectoryOf(o);
        foreach (var (vm, i) in o.Vms.Select((v, i) => (v, i)))
        {
            if (string.IsNullOrEmpty(vm.QmpSocket) && Path.Combine(run, vm.Name + ".qmp").Length > 107)
            {
                return $"{q}:RunDirectory '{run}' is too long for the QMP socket of {AgentOptions.Section}:Vms:{i} (unix socket paths end at 107 bytes); choose a shorter one";
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
