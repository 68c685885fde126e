using Presence.Contracts.Signals;

namespace Presence.Agent.Sensors;

/// <summary>The ACPI lid switch: <c>/proc/acpi/button/lid/LID0/state</c> says <c>state:      open</c> or <c>closed</c>.</summary>
public sealed class LidSensor(SystemFiles files) : IHostSensor
{
    private const string Directory = "/proc/acpi/button/lid";

    public string Name => "Lid";

    public Task<SensorReading> ReadAsync(CancellationToken cancellationToken)
    {
        foreach (var lid in files.Entries(Directory))
        {
            var text = files.ReadText(lid + "/state");
            if (text is null)
            {
                continue;
            }

            var value = text.Split(':', 2) is [_, var v] ? v.Trim() : text.Trim();
            LidState? state = value switch
            {
                "open" => LidState.Open,
                "closed" => LidState.Closed,
                _ => null,
            };
            if (state is { } known)
            {
                return Task.FromResult(new SensorReading([new Observation("lid", new LidSignal { State = known })]));
            }
        }

        return Task.FromResult(SensorReading.Missing($"no lid switch in {Directory} (not a laptop, or no ACPI)"));
    }
}
