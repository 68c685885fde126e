using System.Globalization;
using System.Text;
using Presence.Agent.Processes;
using Presence.Contracts.Signals;

namespace Presence.Agent.Sensors;

/// <summary>
/// The Wi-Fi network from NetworkManager: <c>nmcli -t -f ACTIVE,SSID,BSSID,SIGNAL dev wifi list --rescan no</c>,
/// whose active row names the network this computer is on. A new signal goes out when the SSID or BSSID
/// changes (a different network, or another access point of the same one), not when the strength wavers.
/// </summary>
public sealed class WifiSensor(ICommandRunner runner, string nmcli) : IHostSensor
{
    public static readonly string[] Arguments = ["-t", "-f", "ACTIVE,SSID,BSSID,SIGNAL", "dev", "wifi", "list", "--rescan", "no"];

    public string Name => "Wifi";

    public async Task<SensorReading> ReadAsync(CancellationToken cancellationToken)
    {
        CommandResult result;
        try
        {
            result = await runner.RunAsync(nmcli, Arguments, cancellationToken);
        }
        catch (ProgramNotFoundException e)
        {
            return SensorReading.Missing(e.Message);
        }

        if (!result.Succeeded)
        {
            return SensorReading.Missing($"nmcli: {(result.StandardError.Trim() is { Length: > 0 } error ? error : $"exit {result.ExitCode}")}");
        }

        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (SplitTerse(line) is not ["yes", var ssid, var bssid, var signal])
            {
                continue;
            }

            var wifi = new WifiSignal
            {
                State = WifiState.Connected,
                Ssid = ssid.Length is > 0 and <= 32 ? ssid : null,
                Bssid = bssid.Length is > 0 and <= 17 ? bssid.ToLowerInvariant() : null,
                Rssi = Rssi(signal),
            };
            return new SensorReading([new Observation("wifi", wifi, $"connected|{wifi.Ssid}|{wifi.Bssid}")]);
        }

        return new SensorReading([new Observation("wifi", new WifiSignal { State = WifiState.Disconnected }, "disconnected")]);
    }

    /// <summary>nmcli's terse form separates fields with ':' and escapes a ':' or '\' inside a value with '\'.</summary>
    public static IReadOnlyList<string> SplitTerse(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                current.Append(line[++i]);
            }
            else if (line[i] == ':')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(line[i]);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }

    /// <summary>
    /// NetworkManager reports quality 0–100, which it derives from dBm as 2 × (dBm + 100) clamped; the contract
    /// wants dBm, so this inverts that.
    /// </summary>
    private static int? Rssi(string signal) =>
        int.TryParse(signal, NumberStyles.None, CultureInfo.InvariantCulture, out var quality)
            ? Math.Clamp(quality, 0, 100) / 2 - 100
            : null;
}
