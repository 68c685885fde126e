using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.House;

/// <summary>
/// The policy's lookups by name are made once per policy (a dictionary beside it, as its version is): a copy made with
/// `with` answers from its own lists, never from the lookups of the policy it was copied from.
/// </summary>
public class looking_up_by_name
{
    [Fact]
    public void a_copy_with_other_people_hosts_and_vms_answers_from_its_own_lists()
    {
        var policy = Policy();
        Assert.NotNull(policy.User(AliceName));
        Assert.True(policy.MayUse(AliceName, Imac));

        var copy = policy.AllowsAlice(Basement) with
        {
            Hosts = [.. policy.Hosts, new HostSpec("garage", HostRole.Desktop, true, 1000)],
            Users = [.. policy.AllowsAlice(Basement).Users, new UserSpec("bob", "bob-desktop", Basement, [Basement, "garage"])],
            Vms = [.. policy.Vms, new VmSpec("bob-desktop", 1024, "bob", null)],
        };

        Assert.False(copy.MayUse(AliceName, Imac));
        Assert.True(copy.MayUse("bob", "garage"));
        Assert.Equal("garage", copy.Host("garage")?.Name);
        Assert.Equal("bob", copy.OwnerOfVm("bob-desktop")?.Name);
        Assert.True(policy.MayUse(AliceName, Imac));
        Assert.Null(policy.User("bob"));
        Assert.Null(policy.Host("garage"));
        Assert.Null(policy.Vm("bob-desktop"));
    }

    [Fact]
    public void a_big_house_is_looked_up_through_its_index_and_a_copy_through_its_own()
    {
        var desks = Enumerable.Range(1, 30).Select(i => $"desk-{i:00}").ToList();
        var policy = Policy();
        var office = policy with
        {
            Hosts = [.. policy.Hosts, .. desks.Select(d => new HostSpec(d, HostRole.Desktop, false, 1000))],
            Users = [.. policy.Users, .. desks.Select(d => new UserSpec("user-" + d, "vm-" + d, Basement, [Basement, .. desks]))],
            Vms = [.. policy.Vms, .. desks.Select(d => new VmSpec("vm-" + d, 1024, "user-" + d))],
        };

        Assert.Equal("desk-07", office.Host("desk-07")?.Name);
        Assert.Equal("user-desk-07", office.OwnerOfVm("vm-desk-07")?.Name);
        Assert.True(office.MayUse("user-desk-07", "desk-30"));
        Assert.False(office.MayUse("user-desk-07", Imac));
        Assert.Null(office.User("user-DESK-07"));

        var smaller = office with { Users = office.Users.Where(u => u.Name != "user-desk-07").ToList() };
        Assert.Null(smaller.User("user-desk-07"));
        Assert.False(smaller.MayUse("user-desk-07", "desk-30"));
        Assert.NotNull(office.User("user-desk-07"));
    }

    [Fact]
    public void names_are_matched_exactly()
    {
        var policy = Policy();

        Assert.Null(policy.User(AliceName.ToUpperInvariant()));
        Assert.Null(policy.Host(Imac + " "));
        Assert.False(policy.MayUse(AliceName, Imac.ToUpperInvariant()));
        Assert.False(policy.MayUse("nobody", Imac));
    }
}
