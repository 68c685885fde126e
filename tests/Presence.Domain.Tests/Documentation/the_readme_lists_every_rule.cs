using System.Reflection;
using Presence.Domain.Placement;

namespace Presence.Domain.Tests.Documentation;

/// <summary>
/// Rule ids appear in events, on the state topic and in people's questions; the README's "How Presence decides"
/// must explain each one, so a new rule without its line there fails here.
/// </summary>
public class the_readme_lists_every_rule
{
    public static TheoryData<string> RuleIds()
    {
        var data = new TheoryData<string>();
        foreach (var field in typeof(Rules).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            data.Add((string)field.GetRawConstantValue()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void each_rule_id_has_its_row_in_how_presence_decides(string rule)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("## How Presence decides", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];

        Assert.Contains($"| `{rule}` |", section);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Presence.sln not found above " + AppContext.BaseDirectory);
    }
}
