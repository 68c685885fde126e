using System.Globalization;
using System.Text;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>One measured figure, beside its target from issue 11 (none: shown for context); <see cref="Met"/> is null without a target.</summary>
public sealed record HouseFigure(string Key, string What, double Value, string Unit, string Target = "", bool? Met = null)
{
    public string Shown => Unit switch
    {
        "ms" => Value.ToString(Value < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms",
        "MB" => Value.ToString("0", CultureInfo.InvariantCulture) + " MB",
        "×" => Value.ToString("0.000", CultureInfo.InvariantCulture) + "×",
        "" => Value.ToString("#,0", CultureInfo.InvariantCulture),
        _ => Value.ToString(Value < 100 ? "#,0.0" : "#,0", CultureInfo.InvariantCulture) + " " + Unit,
    };
}

/// <summary>What one run of the house benchmark measured, with the machine and the date, as a markdown table.</summary>
public sealed class HouseReport
{
    public required string Machine { get; init; }
    public required DateTimeOffset Date { get; init; }
    public required string Setup { get; set; }
    public List<HouseFigure> Figures { get; } = [];
    public List<string> Notes { get; } = [];

    /// <summary>What makes the run itself fail (a signal never stored): the figures around it cannot be trusted.</summary>
    public List<string> Failures { get; } = [];

    public HouseFigure this[string key] => Figures.Single(f => f.Key == key);

    public void Add(string key, string what, double value, string unit, string target = "", bool? met = null) =>
        Figures.Add(new HouseFigure(key, what, value, unit, target, met));

    public string Markdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"House benchmark, {Date:yyyy-MM-dd HH:mm} UTC, {Machine}");
        text.AppendLine();
        text.AppendLine(Setup);
        text.AppendLine();
        text.AppendLine("| what | measured | target | met |");
        text.AppendLine("|---|---:|---|---|");
        foreach (var f in Figures)
        {
            var met = f.Met switch { true => "yes", false => "**no**", null => "" };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {f.What} | {f.Shown} | {f.Target} | {met} |");
        }

        foreach (var note in Notes)
        {
            text.AppendLine();
            text.AppendLine(note);
        }

        return text.ToString();
    }
}
