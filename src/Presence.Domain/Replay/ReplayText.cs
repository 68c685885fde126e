using System.Text;
using NodaTime;
using NodaTime.Text;

namespace Presence.Domain.Replay;

/// <summary>A replay report as a person reads it: the steps that would differ, in the house's time.</summary>
public static class ReplayText
{
    private static readonly LocalDateTimePattern When = LocalDateTimePattern.CreateWithInvariantCulture("yyyy-MM-dd HH:mm:ss");
    private static readonly LocalTimePattern Time = LocalTimePattern.CreateWithInvariantCulture("HH:mm:ss");

    /// <param name="everyStep">Print every step, not only those that differ: a replay under the recorded settings reads like the history.</param>
    public static string Render(ReplayReport report, DateTimeZone zone, bool everyStep = false)
    {
        var text = new StringBuilder();
        var window = report.Steps.Count == 0
            ? "no inputs"
            : $"{When.Format(report.Steps[0].At.InZone(zone).LocalDateTime)} to {When.Format(report.Steps[^1].At.InZone(zone).LocalDateTime)} ({zone.Id})";
        text.Append($"replay of {report.User}: {window}\n");
        text.Append($"recorded under policy {report.RecordedPolicy ?? "(not recorded)"}, replayed under {report.ReplayPolicy}\n");
        var decisions = report.Steps.Sum(s => Math.Max(s.Recorded.Count, s.Replayed.Count));
        text.Append($"{report.Steps.Count} inputs, {decisions} decisions and outcomes; ");
        text.Append(report.Identical ? "every one as recorded.\n" : $"{report.Differences} inputs would come out differently:\n");

        // Every step, but not the inputs that came to nothing either way (progress reports, a timeout after its phase).
        foreach (var step in report.Steps.Where(s => s.Differs || (everyStep && (s.Recorded.Count > 0 || s.Replayed.Count > 0))))
        {
            text.Append('\n');
            text.Append($"{Time.Format(step.At.InZone(zone).TimeOfDay)}  {step.Input}");
            text.Append(step.Note is null ? "" : $"   [{step.Note}]");
            text.Append(step.Differs ? "   DIFFERS" : "");
            text.Append('\n');
            if (step.Differs)
            {
                Side(text, "was:     ", step.Recorded);
                Side(text, "would be:", step.Replayed);
            }
            else
            {
                Side(text, "        ", step.Recorded);
            }
        }

        return text.ToString();
    }

    private static void Side(StringBuilder text, string label, IReadOnlyList<DecisionSummary> decisions)
    {
        if (decisions.Count == 0)
        {
            text.Append($"    {label} nothing\n");
            return;
        }

        foreach (var (decision, i) in decisions.Select((d, i) => (d, i)))
        {
            text.Append($"    {(i == 0 ? label : new string(' ', label.Length))} {decision.Text}\n");
        }
    }
}
