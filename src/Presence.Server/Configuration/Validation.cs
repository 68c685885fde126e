using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Wire;
using Presence.Server.Mqtt;
using Presence.Domain.House;

namespace Presence.Server.Configuration;

/// <summary>
/// Checks the house at start-up; each failure names its configuration key so a typo in appsettings.json is
/// found from the first line of output, not from a wrong move days later.
/// </summary>
public sealed class HouseValidation : IValidateOptions<HouseOptions>
{
    public ValidateOptionsResult Validate(string? name, HouseOptions house)
    {
        var errors = new List<string>();
        var hostNames = new HashSet<string>();
        if (house.Hosts.Count == 0)
        {
            errors.Add("House:Hosts is empty; configure at least one computer");
        }

        for (var i = 0; i < house.Hosts.Count; i++)
        {
            var h = house.Hosts[i];
            var key = $"House:Hosts:{i}";
            CheckName(errors, $"{key}:Name", h.Name);
            if (!hostNames.Add(h.Name))
            {
                errors.Add($"{key}:Name '{h.Name}' is configured twice");
            }

            if (h.LinkMbps <= 0)
            {
                errors.Add($"{key}:LinkMbps must be > 0, got {h.LinkMbps}");
            }

            if (h.Address is not null && Uri.CheckHostName(h.Address.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                errors.Add($"{key}:Address '{h.Address}' is not a host name or IP address");
            }
        }

        var vmNames = house.Vms.Select(v => v.Name).ToHashSet();
        var userNames = house.Users.Select(u => u.Name).ToHashSet();
        for (var i = 0; i < house.Users.Count; i++)
        {
            var u = house.Users[i];
            var key = $"House:Users:{i}";
            CheckName(errors, $"{key}:Name", u.Name);
            if (house.Users.Count(x => x.Name == u.Name) > 1 && house.Users.FindIndex(x => x.Name == u.Name) == i)
            {
                errors.Add($"{key}:Name '{u.Name}' is configured twice");
            }

            if (!vmNames.Contains(u.Vm))
            {
                errors.Add($"{key}:Vm '{u.Vm}' is not one of House:Vms ({string.Join(", ", vmNames)})");
            }

            if (!hostNames.Contains(u.HomeHost))
            {
                errors.Add($"{key}:HomeHost '{u.HomeHost}' is not one of House:Hosts ({string.Join(", ", hostNames)})");
            }

            if (u.AllowedHosts.Count == 0)
            {
                errors.Add($"{key}:AllowedHosts is empty; list the computers {u.Name} may use");
            }

            for (var j = 0; j < u.AllowedHosts.Count; j++)
            {
                if (!hostNames.Contains(u.AllowedHosts[j]))
                {
                    errors.Add($"{key}:AllowedHosts:{j} '{u.AllowedHosts[j]}' is not one of House:Hosts");
                }
            }

            if (!u.AllowedHosts.Contains(u.HomeHost) && hostNames.Contains(u.HomeHost))
            {
                errors.Add($"{key}:AllowedHosts must include the home host '{u.HomeHost}'");
            }
        }

        for (var i = 0; i < house.Vms.Count; i++)
        {
            var v = house.Vms[i];
            var key = $"House:Vms:{i}";
            CheckName(errors, $"{key}:Name", v.Name);
            if (house.Vms.FindIndex(x => x.Name == v.Name) != i)
            {
                errors.Add($"{key}:Name '{v.Name}' is configured twice");
            }

            if (v.MemoryMb <= 0)
            {
                errors.Add($"{key}:MemoryMb must be > 0, got {v.MemoryMb}");
            }

            if (!userNames.Contains(v.Owner))
            {
                errors.Add($"{key}:Owner '{v.Owner}' is not one of House:Users");
            }
        }

        if (DateTimeZoneProviders.Tzdb.GetZoneOrNull(house.TimeZone) is null)
        {
            errors.Add($"House:TimeZone '{house.TimeZone}' is not a tz database zone (e.g. Europe/Berlin, America/New_York)");
        }

        if (!DurationText.TryParse(house.Policy.DowntimeLimit, out var downtime) || downtime <= Duration.Zero)
        {
            errors.Add($"House:Policy:DowntimeLimit '{house.Policy.DowntimeLimit}' must be a positive duration such as 300ms");
        }

        void CheckDuration(string key, string? value, bool zeroAllowed = true)
        {
            if (!DurationText.TryParse(value, out var d) || d < NodaTime.Duration.Zero || (!zeroAllowed && d == NodaTime.Duration.Zero))
            {
                errors.Add($"House:Policy:{key} '{value}' must be a{(zeroAllowed ? "" : " positive")} duration such as 20s or 10m{(zeroAllowed ? " (0s switches it off)" : "")}");
            }
        }

        CheckDuration("HoldDown:AttachDisplay", house.Policy.HoldDown.AttachDisplay);
        CheckDuration("HoldDown:LiveMigration", house.Policy.HoldDown.LiveMigration);
        CheckDuration("HoldDown:SuspendResume", house.Policy.HoldDown.SuspendResume);
        CheckDuration("Cooldown", house.Policy.Cooldown);
        CheckDuration("IdleAway", house.Policy.IdleAway);
        CheckDuration("LeaveWindow", house.Policy.LeaveWindow, zeroAllowed: false);
        CheckDuration("SlowMigration", house.Policy.SlowMigration);
        CheckDuration("PrepareTimeout", house.Policy.PrepareTimeout);
        CheckDuration("MigrationTimeout", house.Policy.MigrationTimeout);
        CheckDuration("SuspendTimeout", house.Policy.SuspendTimeout);
        CheckDuration("ResumeTimeout", house.Policy.ResumeTimeout);
        CheckDuration("DisplayTimeout", house.Policy.DisplayTimeout);
        CheckDuration("ProgressInterval", house.Policy.ProgressInterval);
        if (!QuietHoursText.TryParse(house.Policy.QuietHours, out _))
        {
            errors.Add($"House:Policy:QuietHours '{house.Policy.QuietHours}' must be like 22:00-07:00 (house time), or empty for none");
        }

        if (house.Policy.LaptopMinBatteryPercent is < 0 or > 100)
        {
            errors.Add($"House:Policy:LaptopMinBatteryPercent must be 0–100, got {house.Policy.LaptopMinBatteryPercent}");
        }

        if (string.IsNullOrWhiteSpace(house.Policy.SharedStorage))
        {
            errors.Add("House:Policy:SharedStorage must name a folder every computer can reach");
        }

        if (house.Policy.MaxBandwidthMbps < 0)
        {
            errors.Add($"House:Policy:MaxBandwidthMbps must be >= 0 (0 = link speed), got {house.Policy.MaxBandwidthMbps}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckName(List<string> errors, string key, string value)
    {
        if (!Topics.IsValidName(value))
        {
            errors.Add($"{key} '{value}' must match [a-z0-9][a-z0-9_-]{{0,62}}");
        }
    }
}

public sealed class MqttValidation : IValidateOptions<MqttOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions mqtt)
    {
        var errors = new List<string>();
        if (mqtt.Port is < 0 or > 65535)
        {
            errors.Add($"Mqtt:Port must be 0–65535, got {mqtt.Port}");
        }

        if (mqtt.Tls.Port is < 0 or > 65535)
        {
            errors.Add($"Mqtt:Tls:Port must be 0–65535, got {mqtt.Tls.Port}");
        }
        else if (mqtt.Broker == BrokerKind.Embedded && mqtt.Tls.Port == mqtt.Port && mqtt.Port != 0 && mqtt.Tls.Enabled == true)
        {
            errors.Add($"Mqtt:Tls:Port must differ from Mqtt:Port ({mqtt.Port}): the plain and the TLS endpoint each need their own");
        }

        CheckTls(errors, mqtt);

        if (string.IsNullOrWhiteSpace(mqtt.Host))
        {
            errors.Add("Mqtt:Host must not be empty");
        }

        if (string.IsNullOrWhiteSpace(mqtt.TopicRoot) || mqtt.TopicRoot.IndexOfAny(['+', '#']) >= 0 || mqtt.TopicRoot.EndsWith('/'))
        {
            errors.Add($"Mqtt:TopicRoot '{mqtt.TopicRoot}' must be non-empty, without wildcards or a trailing '/'");
        }

        if (mqtt.WarmupLogins < 0)
        {
            errors.Add($"Mqtt:WarmupLogins must be 0 (none) or more (default 50), got {mqtt.WarmupLogins}");
        }

        if (!DurationText.TryParse(mqtt.MaxSkew, out var skew) || skew <= Duration.Zero)
        {
            errors.Add($"Mqtt:MaxSkew '{mqtt.MaxSkew}' must be a positive duration such as 5m");
        }

        foreach (var controller in mqtt.Controllers.Where(c => !Topics.IsValidName(c)))
        {
            errors.Add($"Mqtt:Controllers '{controller}' must match [a-z0-9][a-z0-9_-]{{0,62}}");
        }

        var server = mqtt.ServerIdentity;
        if (mqtt.Controllers.Contains(server))
        {
            errors.Add($"Mqtt:Controllers must not name the server's own identity '{server}'");
        }

        if (!Topics.IsValidName(mqtt.NodeName))
        {
            errors.Add($"Mqtt:NodeName '{mqtt.NodeName}' must match [a-z0-9][a-z0-9_-]{{0,62}}");
        }

        if (mqtt.SharedGroup is { } group)
        {
            if (!Topics.IsValidName(group))
            {
                errors.Add($"Mqtt:SharedGroup '{group}' must match [a-z0-9][a-z0-9_-]{{0,62}}");
            }
            else if (mqtt.Broker == BrokerKind.Embedded)
            {
                errors.Add($"Mqtt:SharedGroup '{group}' needs Mqtt:Broker=External: the embedded broker has no shared subscriptions (one server node uses it)");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>How the server trusts an external broker: the files are loaded now, not at the first connection.</summary>
    private static void CheckTls(List<string> errors, MqttOptions mqtt)
    {
        var tls = mqtt.Tls;
        if (mqtt.Broker == BrokerKind.Embedded)
        {
            var external = new[] { ("Fingerprint", tls.Fingerprint), ("CaFile", tls.CaFile), ("ClientCertificate", tls.ClientCertificate), ("ClientKey", tls.ClientKey) }
                .Where(k => !string.IsNullOrWhiteSpace(k.Item2)).Select(k => $"Mqtt:Tls:{k.Item1}").ToList();
            if (external.Count > 0)
            {
                errors.Add($"{string.Join(", ", external)} {(external.Count == 1 ? "is" : "are")} for an external broker (Mqtt:Broker=external): how the server trusts it. " +
                    "The embedded broker's own certificate is Mqtt:Tls:CertificateFile, and the server reaches it over loopback");
            }

            return;
        }

        if (ServerSession.ExternalTls(mqtt) && tls.Port == 0)
        {
            errors.Add("Mqtt:Tls:Port must be the external broker's TLS port (usually 8883), not 0");
        }

        if (tls.Enabled == false && tls.NamesTrust)
        {
            errors.Add("Mqtt:Tls:Enabled is false but Mqtt:Tls:Fingerprint, CaFile or ClientCertificate is set: remove Enabled=false to connect with TLS, or the TLS settings");
        }

        if (!string.IsNullOrWhiteSpace(tls.Fingerprint) && MqttTls.NormalizeFingerprint(tls.Fingerprint) is null)
        {
            errors.Add($"Mqtt:Tls:Fingerprint '{tls.Fingerprint}' must be a SHA-256 of the broker's certificate: 64 hex digits, colons allowed " +
                "(openssl x509 -noout -fingerprint -sha256 -in <certificate>)");
        }

        if (MqttTls.ProblemWithFiles("Mqtt:Tls", tls.CaFile, tls.ClientCertificate, tls.ClientKey, tls.ClientCertificatePassword) is { } problem)
        {
            errors.Add(problem);
        }
    }
}

public static class HousePolicyFactory
{
    public static HousePolicy From(HouseOptions house) => new()
    {
        Hosts = house.Hosts.Select(h => new HostSpec(h.Name, h.Role, h.CanRunVms, h.LinkMbps)).ToList(),
        Users = house.Users.Select(u => new UserSpec(u.Name, u.Vm, u.HomeHost, u.AllowedHosts.ToList(), u.PreferredMode, u.Automation)).ToList(),
        Vms = house.Vms.Select(v => new VmSpec(v.Name, v.MemoryMb, v.Owner, v.DisplayUri, v.LatencySensitive)).ToList(),
        Migration = new MigrationSettings(
            (int)DurationText.Parse(house.Policy.DowntimeLimit, "House:Policy:DowntimeLimit").TotalMilliseconds,
            house.Policy.MaxBandwidthMbps),
        Settings = new PolicySettings
        {
            TimeZone = house.TimeZone,
            HoldDown = new HoldDowns(
                DurationText.Parse(house.Policy.HoldDown.AttachDisplay, "House:Policy:HoldDown:AttachDisplay"),
                DurationText.Parse(house.Policy.HoldDown.LiveMigration, "House:Policy:HoldDown:LiveMigration"),
                DurationText.Parse(house.Policy.HoldDown.SuspendResume, "House:Policy:HoldDown:SuspendResume")),
            Cooldown = DurationText.Parse(house.Policy.Cooldown, "House:Policy:Cooldown"),
            QuietHours = QuietHoursText.TryParse(house.Policy.QuietHours, out var quiet) ? quiet : null,
            LaptopMinBatteryPercent = house.Policy.LaptopMinBatteryPercent,
            IdleAway = DurationText.Parse(house.Policy.IdleAway, "House:Policy:IdleAway"),
            DetachOnLock = house.Policy.DetachOnLock,
            HomeSsid = string.IsNullOrWhiteSpace(house.Policy.HomeSsid) ? null : house.Policy.HomeSsid,
            LeaveWindow = DurationText.Parse(house.Policy.LeaveWindow, "House:Policy:LeaveWindow"),
            SharedStorage = house.Policy.SharedStorage,
            MinimumBenefit = house.Policy.MinimumBenefit,
            SlowMigration = DurationText.Parse(house.Policy.SlowMigration, "House:Policy:SlowMigration"),
            PrepareTimeout = DurationText.Parse(house.Policy.PrepareTimeout, "House:Policy:PrepareTimeout"),
            MigrationTimeout = DurationText.Parse(house.Policy.MigrationTimeout, "House:Policy:MigrationTimeout"),
            SuspendTimeout = DurationText.Parse(house.Policy.SuspendTimeout, "House:Policy:SuspendTimeout"),
            ResumeTimeout = DurationText.Parse(house.Policy.ResumeTimeout, "House:Policy:ResumeTimeout"),
            DisplayTimeout = DurationText.Parse(house.Policy.DisplayTimeout, "House:Policy:DisplayTimeout"),
            ProgressInterval = DurationText.Parse(house.Policy.ProgressInterval, "House:Policy:ProgressInterval"),
        },
    };
}
