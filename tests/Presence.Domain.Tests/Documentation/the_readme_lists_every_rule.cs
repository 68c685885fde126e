using System.Reflection;
using System.Text.RegularExpressions;
using Presence.Domain.Placement;

namespace Presence.Domain.Tests.Documentation;

/// <summary>
/// Rule ids appear in events, on the state topic and in people's questions; the README's "How Presence decides"
/// must explain each one, so a new rule without its line there fails here. Each row also says where the rule is
/// coded (a file and the method in it), so a newcomer goes from the table straight to the code; that stays true too.
/// </summary>
public class the_readme_lists_every_rule
{
    public static TheoryData<string> RuleIds()
    {
        var data = new TheoryData<string>();
        foreach (var field in RuleFields())
        {
            data.Add((string)field.GetRawConstantValue()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void each_rule_id_has_its_row_in_how_presence_decides(string rule)
    {
        Assert.Contains($"| `{rule}` |", Section());
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void each_rows_coded_in_names_a_file_that_codes_the_rule(string rule)
    {
        var row = Section().Split('\n').Single(l => l.StartsWith($"| `{rule}` |", StringComparison.Ordinal));
        var codedIn = row.TrimEnd().TrimEnd('|').Split('|')[^1];
        var names = Regex.Matches(codedIn, "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
        var path = Assert.Single(names, n => n.EndsWith(".cs", StringComparison.Ordinal));
        var file = Path.Combine(RepositoryRoot(), path);

        Assert.True(File.Exists(file), $"{rule}: {path} does not exist");
        var code = File.ReadAllText(file);
        var constant = RuleFields().Single(f => (string)f.GetRawConstantValue()! == rule).Name;
        Assert.True(code.Contains($"Rules.{constant}", StringComparison.Ordinal) || code.Contains($"\"{rule}\"", StringComparison.Ordinal),
            $"{rule}: {path} mentions neither Rules.{constant} nor \"{rule}\"");
        Assert.All(names.Where(n => n != path), method => Assert.True(code.Contains(method, StringComparison.Ordinal), $"{rule}: {path} has no {method}"));
    }

    private static IEnumerable<FieldInfo> RuleFields() =>
        typeof(Rules).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral);

    private static string Section()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("## How Presence decides", StringComparison.Ordinal)..];
        return section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];
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
