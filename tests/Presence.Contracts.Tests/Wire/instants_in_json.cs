using System.Text;
using System.Text.Json;
using CsCheck;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using NodaTime.Text;
using Presence.Contracts.Wire;

namespace Presence.Contracts.Tests.Wire;

/// <summary>
/// InstantJson writes and reads what NodaTime's own converter does, byte for byte and value for value: stored sagas,
/// events and history files written before it read the same, and what it writes reads the same with NodaTime alone.
/// </summary>
public sealed class instants_in_json
{
    private static readonly JsonSerializerOptions Ours = new JsonSerializerOptions().ConfigureTime();
    private static readonly JsonSerializerOptions Noda = new JsonSerializerOptions().ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);

    /// <summary>Any instant NodaTime has, to the nanosecond, with whole seconds and short fractions often.</summary>
    private static readonly Gen<Instant> Instants = Gen.OneOf(
        Gen.Long[Instant.MinValue.ToUnixTimeTicks(), Instant.MaxValue.ToUnixTimeTicks()]
            .Select(Gen.Int[0, 99], (ticks, nanos) => Instant.FromUnixTimeTicks(ticks).PlusNanoseconds(nanos)),
        Gen.Long[0, 4_102_444_800L].Select(Gen.Int[0, 9], Gen.Int[0, 999_999_999],
            (seconds, cut, nanos) => Instant.FromUnixTimeSeconds(seconds).PlusNanoseconds(nanos / (int)Math.Pow(10, cut) * (int)Math.Pow(10, cut))),
        Gen.OneOf(Gen.Const(Instant.MinValue), Gen.Const(Instant.MaxValue), Gen.Const(Instant.FromUtc(1, 1, 1, 0, 0)),
            Gen.Const(Instant.FromUtc(9998, 12, 31, 23, 59, 59).PlusNanoseconds(999_999_999)), Gen.Const(Instant.FromUtc(9999, 1, 1, 0, 0)),
            Gen.Const(Instant.FromUtc(2024, 2, 29, 12, 0)), Gen.Const(NodaConstants.UnixEpoch)));

    [Fact]
    public void writes_what_NodaTime_writes()
    {
        Instants.Sample(instant =>
        {
            Assert.Equal(JsonSerializer.Serialize(instant, Noda), JsonSerializer.Serialize(instant, Ours));
            Assert.Equal(JsonSerializer.Serialize<Instant?>(instant, Noda), JsonSerializer.Serialize<Instant?>(instant, Ours));
        });
    }

    [Fact]
    public void reads_what_NodaTime_reads()
    {
        Instants.Sample(instant =>
        {
            var json = JsonSerializer.Serialize(instant, Noda);
            Assert.Equal(instant, JsonSerializer.Deserialize<Instant>(json, Ours));
            Assert.Equal(instant, JsonSerializer.Deserialize<Instant?>(json, Ours));
        });
    }

    [Theory]
    [InlineData("2026-12-06T03:09:42Z")]
    [InlineData("2026-12-06T03:09:42.6462282Z")]
    [InlineData("2026-12-06T03:09:42.000Z")]
    [InlineData("2026-12-06T03:09:42.123456789Z")]
    [InlineData("2026-12-06T03:09:42,5Z")]
    [InlineData("0000-01-01T00:00:00Z")]
    [InlineData("-0001-01-01T00:00:00Z")]
    [InlineData("2024-02-29T00:00:00Z")]
    [InlineData("2026-12-06T24:00:00Z")]
    public void reads_every_text_NodaTime_reads_as_it_does(string text)
    {
        var json = $"\"{text}\"";
        Assert.Equal(JsonSerializer.Deserialize<Instant>(json, Noda), JsonSerializer.Deserialize<Instant>(json, Ours));
    }

    /// <summary>Text NodaTime refuses is refused with NodaTime's error, not read as something else.</summary>
    [Theory]
    [InlineData("\"2026-12-06T03:09:42\"")]
    [InlineData("\"2026-12-06T03:09:42.Z\"")]
    [InlineData("\"2026-12-06T03:09:42.1234567890Z\"")]
    [InlineData("\"2026-13-06T03:09:42Z\"")]
    [InlineData("\"2023-02-29T03:09:42Z\"")]
    [InlineData("\"2026-12-06T03:60:00Z\"")]
    [InlineData("\"2026-12-06T03:09:60Z\"")]
    [InlineData("\"2026-12-06 03:09:42Z\"")]
    [InlineData("\"2026-12-06T03:09:42+01:00\"")]
    [InlineData("\"2O26-12-06T03:09:42Z\"")]
    [InlineData("\"\"")]
    [InlineData("12")]
    public void refuses_what_NodaTime_refuses_with_its_words(string json)
    {
        var noda = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Instant>(json, Noda));
        var ours = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Instant>(json, Ours));
        Assert.Equal(noda.Message, ours.Message);
        Assert.Equal(noda.InnerException?.Message, ours.InnerException?.Message);
    }

    [Fact]
    public void the_fast_path_is_taken_for_the_product_s_own_instants()
    {
        var now = Instant.FromUtc(2026, 12, 6, 3, 9, 42).PlusNanoseconds(646_228_200);
        Span<byte> text = stackalloc byte[InstantJson.MaxLength];
        Assert.True(InstantJson.TryFormat(now, text, out var length));
        Assert.Equal(InstantPattern.ExtendedIso.Format(now), Encoding.UTF8.GetString(text[..length]));
        Assert.True(InstantJson.TryParse(text[..length], out var read));
        Assert.Equal(now, read);
        // The only setting of the product's serializers puts it first, before NodaTime's own converter for instants.
        Assert.IsType<InstantJson>(Ours.GetConverter(typeof(Instant)));
        Assert.IsType<InstantJson>(ContractJson.Options.GetConverter(typeof(Instant)));
    }

    /// <summary>Instants as keys of a dictionary are rare; they stay NodaTime's.</summary>
    [Fact]
    public void instants_as_property_names_are_NodaTime_s()
    {
        var keyed = new Dictionary<Instant, int> { [Instant.FromUtc(2026, 12, 6, 3, 9, 42)] = 1 };
        Assert.Equal(JsonSerializer.Serialize(keyed, Noda), JsonSerializer.Serialize(keyed, Ours));
        Assert.Equal(keyed, JsonSerializer.Deserialize<Dictionary<Instant, int>>(JsonSerializer.Serialize(keyed, Noda), Ours));
    }
}
