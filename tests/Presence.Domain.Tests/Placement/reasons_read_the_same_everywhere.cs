using System.Globalization;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Reasons are part of the recorded decision: a replay on a server with another culture must produce the same text,
/// and a reason must not contradict itself by rounding.
/// </summary>
public class reasons_read_the_same_everywhere
{
    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    [InlineData("en-US")]
    public void numbers_in_reasons_do_not_depend_on_the_servers_culture(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);

            var full = Scenario.AliceOnTheBasementServer()
                .WithHouse(h => h.FreeMemory(Imac, 2560))
                .When(Alice.LogsInAt(Imac));
            var slow = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Laptop));

            Assert.Equal("imac: 2.5 GiB free, needs 8 GiB", Assert.Single(full.The<PlacementDecided>().Rejected).Reason);
            Assert.EndsWith("about 3.7 min", slow.The<PlacementDecided>().Reason);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void free_memory_just_short_of_the_need_does_not_read_as_enough()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 8 * Gib - 1))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal("imac: 7.9 GiB free, needs 8 GiB", Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void a_need_just_over_a_tenth_is_not_rounded_down_to_what_is_free()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p with { Vms = p.Vms.Select(v => v with { MemoryMb = 8 * Gib + 1 }).ToList() })
            .WithHouse(h => h.FreeMemory(Imac, 8 * Gib))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal("imac: 8 GiB free, needs 8.1 GiB", Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }
}
