namespace Presence.Domain.House;

/// <summary>
/// Finds an item of a short list by its name, as <c>FirstOrDefault(x =&gt; x.Name == name)</c> would, without the
/// closure and delegate that lambda allocates at every call: the decider looks up hosts, users and VMs several times
/// per decision, and deciding a year again spent a third of its time collecting such garbage (issue 11 §7).
/// </summary>
internal static class ByName
{
    public static T? Find<T>(IReadOnlyList<T> items, string name, Func<T, string> nameOf)
        where T : class
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (nameOf(items[i]) == name)
            {
                return items[i];
            }
        }

        return null;
    }
}
