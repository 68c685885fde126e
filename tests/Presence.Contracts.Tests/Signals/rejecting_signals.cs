using Presence.Contracts.Signals;

namespace Presence.Contracts.Tests.Signals;

/// <summary>CONTRACT.md Conventions: a signal that misses a field, has a wrong type or value is rejected, saying which field.</summary>
public class rejecting_signals
{
    private static string Rejection(string kind, string json) =>
        Payload.Rejection(() => Signal.Parse("imac", kind, Payload.Utf8(json)));

    [Theory]
    [InlineData("session", """{"state":"login"}""", "user")]
    [InlineData("session", """{"user":"alice"}""", "state")]
    [InlineData("session", """{"user":null,"state":"login"}""", "user")]
    [InlineData("lid", """{}""", "state")]
    [InlineData("lid", """{"State":"open"}""", "state")]
    [InlineData("wifi", """{"ssid":"home","rssi":-40}""", "state")]
    [InlineData("idle", """{"idle_seconds":10}""", "user")]
    [InlineData("idle", """{"user":"alice"}""", "idle_seconds")]
    [InlineData("power", """{"battery_percent":50}""", "ac")]
    public void a_missing_required_field_is_named(string kind, string json, string field)
    {
        var message = Rejection(kind, json);

        Assert.Contains($"required field '{field}' is missing", message);
    }

    [Fact]
    public void a_missing_enum_field_says_which_values_are_expected()
    {
        var message = Rejection("session", """{"user":"alice"}""");

        Assert.Equal("required field 'state' is missing; expected one of login|logout|lock|unlock|active", message);
    }

    [Theory]
    [InlineData("session", """{"user":42,"state":"login"}""", "user", "a string")]
    [InlineData("wifi", """{"state":"connected","ssid":5}""", "ssid", "a string")]
    [InlineData("wifi", """{"state":"connected","rssi":"strong"}""", "rssi", "a whole number")]
    [InlineData("wifi", """{"state":"connected","rssi":-54.5}""", "rssi", "a whole number")]
    [InlineData("idle", """{"user":"alice","idle_seconds":"300"}""", "idle_seconds", "a whole number")]
    [InlineData("idle", """{"user":"alice","idle_seconds":1.5}""", "idle_seconds", "a whole number")]
    [InlineData("idle", """{"user":"alice","idle_seconds":[300]}""", "idle_seconds", "a whole number")]
    [InlineData("power", """{"ac":"yes"}""", "ac", "true or false")]
    [InlineData("power", """{"ac":1}""", "ac", "true or false")]
    [InlineData("power", """{"ac":true,"battery_percent":"87"}""", "battery_percent", "a whole number")]
    [InlineData("lid", """{"state":"open","id":123}""", "id", "a string")]
    [InlineData("lid", """{"state":"open","at":1764059400}""", "at", "a string")]
    public void a_wrong_type_names_the_field_and_the_expected_type(string kind, string json, string field, string expected)
    {
        var message = Rejection(kind, json);

        Assert.StartsWith($"field '{field}' must be {expected}, got ", message);
    }

    [Fact]
    public void a_wrong_type_shows_what_was_sent()
    {
        var message = Rejection("power", """{"ac":"yes"}""");

        Assert.Equal("field 'ac' must be true or false, got \"yes\"", message);
    }

    [Theory]
    [InlineData("session", """{"user":"alice","state":"sleeping"}""", "state", "login|logout|lock|unlock|active", "\"sleeping\"")]
    [InlineData("session", """{"user":"alice","state":"Login"}""", "state", "login|logout|lock|unlock|active", "\"Login\"")]
    [InlineData("session", """{"user":"alice","state":"login","seat":"vnc"}""", "seat", "console|remote", "\"vnc\"")]
    [InlineData("lid", """{"state":"ajar"}""", "state", "open|closed", "\"ajar\"")]
    [InlineData("lid", """{"state":1}""", "state", "open|closed", "1")]
    [InlineData("wifi", """{"state":"up"}""", "state", "connected|disconnected", "\"up\"")]
    public void a_bad_enum_value_lists_the_allowed_values(string kind, string json, string field, string allowed, string shown)
    {
        var message = Rejection(kind, json);

        Assert.Equal($"field '{field}' must be one of {allowed}, got {shown}", message);
    }

    [Theory]
    [InlineData("power", """{"ac":false,"battery_percent":101}""", "battery_percent", "101")]
    [InlineData("power", """{"ac":false,"battery_percent":-1}""", "battery_percent", "-1")]
    [InlineData("idle", """{"user":"alice","idle_seconds":-1}""", "idle_seconds", "-1")]
    [InlineData("wifi", """{"state":"connected","rssi":12}""", "rssi", "12")]
    public void an_out_of_range_number_is_rejected_with_field_and_value(string kind, string json, string field, string value)
    {
        var message = Rejection(kind, json);

        Assert.StartsWith($"field '{field}' must be between ", message);
        Assert.EndsWith($", got {value}", message);
    }

    [Fact]
    public void battery_percent_range_is_spelled_out()
    {
        var message = Rejection("power", """{"ac":false,"battery_percent":101}""");

        Assert.Equal("field 'battery_percent' must be between 0 and 100, got 101", message);
    }

    [Fact]
    public void idle_seconds_beyond_a_64_bit_number_is_rejected()
    {
        var message = Rejection("idle", """{"user":"alice","idle_seconds":99999999999999999999}""");

        Assert.Contains("'idle_seconds'", message);
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("-alice")]
    [InlineData("al ice")]
    [InlineData("alice.smith")]
    [InlineData("")]
    public void a_user_name_off_the_contract_pattern_is_rejected(string user)
    {
        var message = Rejection("session", $$"""{"user":"{{user}}","state":"login"}""");

        Assert.Equal($"field 'user' must match [a-z0-9][a-z0-9_-]{{0,62}}, got \"{user}\"", message);
    }

    [Fact]
    public void a_user_name_with_a_trailing_newline_is_rejected()
    {
        var message = Rejection("idle", """{"user":"alice\n","idle_seconds":5}""");

        Assert.Contains("field 'user' must match", message);
    }

    [Fact]
    public void a_user_name_longer_than_63_characters_is_rejected()
    {
        var message = Rejection("session", $$"""{"user":"{{new string('a', 64)}}","state":"login"}""");

        Assert.Equal("field 'user' is 64 characters long; at most 63 allowed", message);
    }

    [Fact]
    public void a_user_name_of_63_characters_is_allowed()
    {
        var user = new string('a', 63);

        var signal = Signal.Parse("imac", "session", Payload.Utf8($$"""{"user":"{{user}}","state":"login"}"""));

        Assert.Equal(user, signal.User);
    }

    [Fact]
    public void an_ssid_longer_than_32_bytes_is_rejected()
    {
        var message = Rejection("wifi", $$"""{"state":"connected","ssid":"{{new string('s', 33)}}"}""");

        Assert.Contains("'ssid'", message);
    }
}
