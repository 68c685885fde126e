using NodaTime;
using Presence.Domain.House;

namespace Presence.Domain.Users;

/// <summary>The cost model: how long a live migration will take, which the hold-down, benefit points and timeouts use.</summary>
public static partial class UserDecider
{
    /// <summary>The link rate an agent measured wins over the configured one; 1 Gbit/s when neither is known.</summary>
    private static int Bandwidth(HousePolicy policy, HouseSnapshot house, string source, string target) =>
        policy.Migration.BandwidthFor(
            house.Host(source).LinkMbps ?? policy.Host(source)?.LinkMbps ?? 1000,
            house.Host(target).LinkMbps ?? policy.Host(target)?.LinkMbps ?? 1000);

    /// <summary>Memory over bandwidth plus a fixed cost for setting up and switching over.</summary>
    public static Duration EstimateLiveMigration(int memoryMb, int bandwidthMbps) =>
        Duration.FromSeconds(2) + Duration.FromSeconds(memoryMb * 8.0 / Math.Max(1, bandwidthMbps));

    /// <summary>
    /// Past moves of this VM, when there are any, say more than the link rate does. Without them, pages the VM
    /// dirties (4 KiB each) must be sent again, so they eat into the bandwidth — down to a tenth of it at most.
    /// </summary>
    public static Duration EstimateLiveMigration(int memoryMb, int bandwidthMbps, double? measuredSecondsPerGib, long? dirtyPagesRate = null)
    {
        if (measuredSecondsPerGib is { } measured)
        {
            return Duration.FromSeconds(measured * memoryMb / 1024.0);
        }

        var dirtyMbps = (dirtyPagesRate ?? 0) * 4096 * 8 / 1_000_000.0;
        var effective = Math.Max(bandwidthMbps / 10.0, bandwidthMbps - dirtyMbps);
        return Duration.FromSeconds(2) + Duration.FromSeconds(memoryMb * 8.0 / Math.Max(1, effective));
    }
}
