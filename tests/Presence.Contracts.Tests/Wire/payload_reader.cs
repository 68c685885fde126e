namespace Presence.Contracts.Tests.Wire;

/// <summary>CONTRACT.md Conventions that every payload shares: a JSON object, `id`, `at`, unknown keys, nulls.</summary>
public class payload_reader
{
    private static PayloadReader Open(string json) => PayloadReader.Open(Payload.Utf8(json));

    [Theory]
    [InlineData("""{"state":""")]
    [InlineData("""{"state":"open",}""")]
    [InlineData("""{state:"open"}""")]
    [InlineData("not json")]
    [InlineData("{'state':'open'}")]
    public void invalid_json_is_rejected(string json)
    {
        var message = Payload.Rejection(() => Open(json));

        Assert.StartsWith("payload is not valid JSON: ", message);
    }

    [Theory]
    [InlineData("""{"state":"open"} trailing""")]
    [InlineData("""{"state":"open"}{"state":"closed"}""")]
    [InlineData("""{"state":"open"}]""")]
    public void content_after_the_object_is_invalid_json(string json)
    {
        var message = Payload.Rejection(() => Open(json));

        Assert.StartsWith("payload is not valid JSON: ", message);
    }

    [Fact]
    public void whitespace_around_the_object_is_fine()
    {
        var reader = Open(" \n{\"state\":\"open\"}\r\n ");

        Assert.True(reader.Has("state"));
    }

    [Fact]
    public void invalid_utf8_is_rejected_as_a_contract_error()
    {
        byte[] payload = [.. Payload.Utf8("""{"state":"""), 0x22, 0xC3, 0x28, 0x22, (byte)'}'];

        var message = Payload.Rejection(() => PayloadReader.Open(payload).RequiredString("state"));

        Assert.Contains("UTF-8", message);
    }

    [Fact]
    public void an_empty_payload_is_rejected()
    {
        var message = Payload.Rejection(() => PayloadReader.Open(ReadOnlySpan<byte>.Empty));

        Assert.Equal("payload is empty; expected a JSON object", message);
    }

    [Theory]
    [InlineData("""[{"state":"open"}]""", "an array")]
    [InlineData("[]", "an array")]
    [InlineData("\"open\"", "a string")]
    [InlineData("42", "a number")]
    [InlineData("true", "a boolean")]
    [InlineData("null", "null")]
    public void a_payload_that_is_not_an_object_is_rejected(string json, string what)
    {
        var message = Payload.Rejection(() => Open(json));

        Assert.Equal($"payload must be a JSON object, not {what}", message);
    }

    [Fact]
    public void an_id_of_64_characters_is_accepted()
    {
        var id = new string('x', 64);

        Assert.Equal(id, Open($$"""{"id":"{{id}}"}""").Id());
    }

    [Fact]
    public void an_id_longer_than_64_characters_is_rejected()
    {
        var message = Payload.Rejection(() => Open($$"""{"id":"{{new string('x', 65)}}"}""").Id());

        Assert.Equal("field 'id' is 65 characters long; at most 64 allowed", message);
    }

    [Fact]
    public void an_absent_or_null_id_is_null()
    {
        Assert.Null(Open("{}").Id());
        Assert.Null(Open("""{"id":null}""").Id());
    }

    [Theory]
    [InlineData("2026-11-25T08:30:00Z")]
    [InlineData("2026-11-25T08:30:00.000Z")]
    [InlineData("2026-11-25T09:30:00+01:00")]
    [InlineData("2026-11-25T03:30:00-05:00")]
    [InlineData("2026-11-25T08:30:00+00:00")]
    public void at_is_accepted_with_z_or_an_offset(string at)
    {
        Assert.Equal(Payload.Now, Open($$"""{"at":"{{at}}"}""").At());
    }

    [Fact]
    public void at_keeps_fractions_of_a_second()
    {
        var at = Open("""{"at":"2026-11-25T08:30:00.250Z"}""").At();

        Assert.Equal(Payload.Now + Duration.FromMilliseconds(250), at);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-11-25T08:30:00")]
    [InlineData("2026-11-25")]
    [InlineData("2026-13-25T08:30:00Z")]
    [InlineData("")]
    public void an_at_that_is_not_an_iso_instant_is_rejected(string at)
    {
        var message = Payload.Rejection(() => Open($$"""{"at":"{{at}}"}""").At());

        Assert.Equal($"field 'at' must be an ISO-8601 instant such as 2026-11-25T08:30:00Z, got \"{at}\"", message);
    }

    [Fact]
    public void null_counts_as_absent_for_optional_fields()
    {
        var reader = Open("""{"text":null,"flag":null,"count":null,"ratio":null,"when":null,"child":null,"items":null}""");

        Assert.False(reader.Has("text"));
        Assert.Null(reader.OptionalString("text"));
        Assert.Null(reader.OptionalBool("flag"));
        Assert.Null(reader.OptionalLong("count"));
        Assert.Null(reader.OptionalDouble("ratio"));
        Assert.Null(reader.OptionalInstant("when"));
        Assert.Null(reader.OptionalObject("child"));
        Assert.Empty(reader.ObjectArray("items"));
    }

    [Fact]
    public void null_counts_as_missing_for_required_fields()
    {
        var message = Payload.Rejection(() => Open("""{"name":null}""").RequiredString("name"));

        Assert.Equal("required field 'name' is missing; expected a string", message);
    }

    [Fact]
    public void keys_are_case_sensitive()
    {
        var message = Payload.Rejection(() => Open("""{"AC":true}""").RequiredBool("ac"));

        Assert.Equal("required field 'ac' is missing; expected true or false", message);
    }

    [Fact]
    public void a_long_offending_value_is_shortened_in_the_message()
    {
        var message = Payload.Rejection(() => Open($$"""{"count":"{{new string('9', 100)}}"}""").OptionalLong("count"));

        Assert.EndsWith("…", message);
        Assert.True(message.Length < 100, message);
    }

    [Fact]
    public void a_number_field_reports_its_range()
    {
        var message = Payload.Rejection(() => Open("""{"mbps":-0.5}""").OptionalDouble("mbps", 0, 10_000));

        Assert.Equal("field 'mbps' must be between 0 and 10000, got -0.5", message);
    }

    [Fact]
    public void a_nested_object_of_the_wrong_type_is_named()
    {
        var message = Payload.Rejection(() => Open("""{"progress":42}""").OptionalObject("progress"));

        Assert.Equal("field 'progress' must be an object, got 42", message);
    }

    [Fact]
    public void an_array_field_of_the_wrong_type_is_named()
    {
        var message = Payload.Rejection(() => Open("""{"vms":{"name":"x"}}""").ObjectArray("vms"));

        Assert.StartsWith("field 'vms' must be an array, got ", message);
    }

    [Fact]
    public void an_array_item_that_is_not_an_object_is_named_by_index()
    {
        var message = Payload.Rejection(() => Open("""{"vms":[{"name":"a"},"b"]}""").ObjectArray("vms"));

        Assert.Equal("field 'vms[1]' must be an object, got \"b\"", message);
    }

    [Fact]
    public void a_string_payload_opens_like_its_utf8_bytes()
    {
        var reader = PayloadReader.Open("""{"user":"zoë"}""");

        Assert.Equal("zoë", reader.RequiredString("user"));
    }
}
