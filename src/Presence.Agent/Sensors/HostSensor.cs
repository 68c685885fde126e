using Presence.Contracts.Signals;

namespace Presence.Agent.Sensors;

/// <summary>
/// One thing a sensor currently observes. <see cref="Key"/> tells observations apart (<c>session/alice</c>);
/// a new signal is published only when an observation's <see cref="Fingerprint"/> differs from the last one
/// published under its key. The fingerprint is the payload unless the payload has a part that moves on its own
/// (idle seconds, Wi-Fi signal strength) and must not count as a change.
/// </summary>
public sealed record Observation(string Key, Signal Signal, string? Fingerprint = null);

/// <summary>What a sensor read: its observations, or why its source is not there.</summary>
public sealed record SensorReading(IReadOnlyList<Observation> Observations, string? Unavailable = null)
{
    public static SensorReading Missing(string reason) => new([], reason);
}

/// <summary>Reads one source about this computer (logind, the lid switch, NetworkManager, the power supply).</summary>
public interface IHostSensor
{
    /// <summary>Its name in configuration and logs: Logind, Lid, Wifi, Power.</summary>
    string Name { get; }

    Task<SensorReading> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The files a sensor reads (/proc, /sys), under a root that is <c>/</c> on a real computer and a fake tree in tests.
/// </summary>
public sealed class SystemFiles(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The file's text, or null when it is missing or unreadable.</summary>
    public string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(Resolve(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The entries of a directory (sysfs links them, so directories and links both count), sorted; empty when it is missing.</summary>
    public IReadOnlyList<string> Entries(string path)
    {
        var full = Resolve(path);
        if (!Directory.Exists(full))
        {
            return [];
        }

        return Directory.EnumerateFileSystemEntries(full)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .Select(name => path.TrimEnd('/') + "/" + name)
            .ToList();
    }

    private string Resolve(string path) => Path.Combine(Root, path.TrimStart('/'));
}
