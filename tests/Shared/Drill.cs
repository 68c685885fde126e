using System.Globalization;

namespace Presence.Tests.Shared;

/// <summary>
/// The drills' shared knobs. A drill is a test with <c>[Trait("Category", "Drill")]</c>: run them alone with
/// <c>dotnet test --filter Category=Drill</c>. CI runs them with small counts; the full counts are set through
/// environment variables (docs/drills.md).
/// </summary>
public static class Drill
{
    /// <summary>The count in <paramref name="variable"/> when set (a positive whole number), else <paramref name="ciDefault"/>.</summary>
    public static int Count(string variable, int ciDefault)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return ciDefault;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? count
            : throw new InvalidOperationException($"{variable}='{text}' must be a positive whole number (how many to send)");
    }
}
