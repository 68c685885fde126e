using System.Globalization;
using Presence.Contracts.Signals;

namespace Presence.Agent.Sensors;

/// <summary>
/// The power supply from <c>/sys/class/power_supply/*</c>: mains adapters (<c>type</c> Mains or USB) say
/// whether they are <c>online</c>, system batteries their <c>capacity</c>. Batteries of devices (a mouse:
/// <c>scope</c> Device) are not this computer's.
/// </summary>
public sealed class PowerSensor(SystemFiles files) : IHostSensor
{
    private const string Directory = "/sys/class/power_supply";

    public string Name => "Power";

    public Task<SensorReading> ReadAsync(CancellationToken cancellationToken)
    {
        bool? mainsOnline = null;
        var capacities = new List<int>();
        var discharging = false;
        foreach (var supply in files.Entries(Directory))
        {
            string? Read(string name) => files.ReadText($"{supply}/{name}")?.Trim();

            if (Read("scope") == "Device")
            {
                continue;
            }

            switch (Read("type"))
            {
                case "Mains" or "USB":
                    mainsOnline = mainsOnline == true || Read("online") == "1";
                    break;
                case "Battery":
                    if (int.TryParse(Read("capacity"), NumberStyles.None, CultureInfo.InvariantCulture, out var capacity))
                    {
                        capacities.Add(Math.Clamp(capacity, 0, 100));
                    }

                    discharging |= Read("status") == "Discharging";
                    break;
            }
        }

        if (mainsOnline is null && capacities.Count == 0)
        {
            return Task.FromResult(SensorReading.Missing($"no mains adapter or battery in {Directory}"));
        }

        // Without an adapter entry (some desktops, some firmware) the battery's own status is all there is.
        var ac = mainsOnline ?? !discharging;
        int? percent = capacities.Count > 0 ? (int)Math.Round(capacities.Average()) : null;
        return Task.FromResult(new SensorReading([new Observation("power", new PowerSignal { Ac = ac, BatteryPercent = percent })]));
    }
}
