namespace Presence.Domain.Tests.Users;

public class when_the_user_is_not_in_the_house
{
    [Fact]
    public void deciding_for_them_is_refused_rather_than_guessed()
    {
        var input = new ObserveEvidence
        {
            User = "mallory",
            House = TheHouse.Facts(),
            Seed = Guid.Empty,
            Evidence = new Evidence("ev-1", EvidenceKind.Session, TheHouse.Imac, "mallory",
                new Dictionary<string, string> { ["state"] = "login" }, Scenario.Start),
        };

        var refused = Assert.Throws<ArgumentException>(() => UserDecider.Decide(null, input, Scenario.Start, TheHouse.Policy()));
        Assert.Contains("'mallory' is not in the house", refused.Message);
    }
}
