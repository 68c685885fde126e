using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Leaving;

/// <summary>
/// The laptop she works on joins another network than HomeSsid while still reachable: she is leaving, and the VM
/// follows onto the laptop. Roaming between the house's own access points, or losing Wi-Fi, is not leaving.
/// </summary>
public class when_the_laptop_leaves_the_home_wifi
{
    private static Scenario AtTheLaptop(string? homeSsid = HomeWifi) => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
        .WithSettings(p => p with { HomeSsid = homeSsid })
        .Given(Alice.LogsInAt(Laptop), Agent.SeatReports(ReportState.Completed));

    [Fact]
    public void another_network_means_leaving()
    {
        var s = AtTheLaptop()
            .When(Alice.JoinsWifi(Laptop, "library-guest"))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.Equal("laptop joined Wi-Fi 'library-guest', away from the home network 'lindenweg'", s.The<LeavingDetected>().Reason);
        Assert.Equal(Rules.LeavingWithLaptop, s.The<PlacementDecided>().Rule);
        Assert.True(s.The<IncomingRequested>().InhibitSleep);
    }

    [Fact]
    public void roaming_within_the_home_network_is_not_leaving()
    {
        AtTheLaptop().When(Alice.JoinsWifi(Laptop, HomeWifi)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_house_whose_network_has_several_names_lists_them_all()
    {
        var s = AtTheLaptop(homeSsid: HomeWifi + ", lindenweg-5G");

        s.When(Alice.JoinsWifi(Laptop, "lindenweg-5G")).Then(typeof(SignalRecorded));
        s.When(Alice.JoinsWifi(Laptop, "library-guest")).Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(PlacementDecided), typeof(IncomingRequested));
        Assert.Equal("laptop joined Wi-Fi 'library-guest', away from the home networks 'lindenweg', 'lindenweg-5G'", s.The<LeavingDetected>().Reason);
    }

    [Fact]
    public void losing_wifi_is_not_leaving()
    {
        // Too late to move anything, and as likely a flaky access point.
        AtTheLaptop().When(Alice.LosesWifi(Laptop)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void without_a_home_network_configured_wifi_says_nothing()
    {
        AtTheLaptop(homeSsid: null).When(Alice.JoinsWifi(Laptop, "library-guest")).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_network_without_a_name_is_not_leaving()
    {
        AtTheLaptop()
            .When(Alice.Evidence(EvidenceKind.Wifi, Laptop, ("state", "connected")))
            .Then(typeof(SignalRecorded));
    }
}
