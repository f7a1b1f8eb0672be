using System;
using System.Buffers.Binary;
using System.IO;
using System.Security.Cryptography;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Kare;

/// <summary>
/// The SHA-256 digests the model formats store so that a damaged file fails to load instead of loading silently as a
/// different model: ML.NET's loader does not verify the zip entries' CRC-32. Two layouts, shared by every model type:
/// <list type="bullet">
/// <item>a field block in the main stream: long: byte count b; byte[b]: the fields; byte[32]: SHA-256 of those b bytes;</item>
/// <item>a vector stream: long: n; double[n]: the values (little-endian); byte[32]: SHA-256 of the 8 + 8·n bytes before it
/// (older files of each format have no digest there).</item>
/// </list>
/// Every message starts "The {model} model", with <c>model</c> the model's name as its messages spell it (for example
/// "KARE"); a digest mismatch says "The {model} model file is corrupted". Also the plain value helpers every format's
/// fields use (reading with a length check, writing, finding a non-finite value).
/// </summary>
internal static class ModelIntegrity
{
    /// <summary>Bytes of a SHA-256 digest.</summary>
    public const int DigestSize = 32;

    /// <summary>Doubles hashed and copied per chunk when a vector is saved or loaded.</summary>
    private const int VectorChunkValues = 4096;

    /// <summary>Writes long: b; byte[b]: what <paramref name="writeFields"/> writes; byte[32]: SHA-256 of those b bytes.</summary>
    public static void WriteFields(BinaryWriter writer, Action<BinaryWriter> writeFields)
    {
        byte[] fields;
        using (var buffer = new MemoryStream())
        {
            using (var fieldWriter = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                writeFields(fieldWriter);
            fields = buffer.ToArray();
        }
        writer.Write((long)fields.Length);
        writer.Write(fields);
        writer.Write(SHA256.HashData(fields));
    }

    /// <summary>
    /// Reads a field block written by <see cref="WriteFields"/>, checks its byte count against the stream and its digest,
    /// and returns a reader over the verified fields; pass it to <see cref="EndFields"/> once the fields are read.
    /// </summary>
    public static BinaryReader ReadFields(IHost host, BinaryReader reader, string model)
    {
        long fieldCount = reader.ReadInt64();
        host.CheckDecode(fieldCount > 0 && fieldCount <= Remaining(reader) - DigestSize && fieldCount <= Array.MaxLength,
            $"The {model} model file is corrupted: its byte count of the model's fields ({fieldCount}) is invalid or larger than the model file allows.");
        byte[] fields = reader.ReadBytes((int)fieldCount);
        byte[] digest = reader.ReadBytes(DigestSize);
        host.CheckDecode(fields.Length == fieldCount && digest.Length == DigestSize, $"The {model} model file ends early.");
        host.CheckDecode(SHA256.HashData(fields).AsSpan().SequenceEqual(digest), CorruptedMessage(model, "the model's fields"));
        return new BinaryReader(new MemoryStream(fields, writable: false));
    }

    /// <summary>Checks that the model read all of a field block returned by <see cref="ReadFields"/>, and disposes its reader.</summary>
    public static void EndFields(IHost host, BinaryReader fields, string model)
    {
        long left = Remaining(fields);
        fields.Dispose();
        host.CheckDecode(left == 0, $"The {model} model file is corrupted: its fields hold {left} bytes more than the model reads.");
    }

    /// <summary>Writes long: n; double[n]: values; byte[32]: SHA-256 of those 8 + 8·n bytes (little-endian).</summary>
    public static void WriteVector(BinaryWriter writer, double[] values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[8 * Math.Min(VectorChunkValues, Math.Max(1, values.Length))];
        BinaryPrimitives.WriteInt64LittleEndian(chunk, values.Length);
        hash.AppendData(chunk, 0, 8);
        writer.Write(chunk, 0, 8);
        for (int start = 0; start < values.Length; start += VectorChunkValues)
        {
            int count = Math.Min(VectorChunkValues, values.Length - start);
            for (int i = 0; i < count; i++)
                BinaryPrimitives.WriteDoubleLittleEndian(chunk.AsSpan(8 * i), values[start + i]);
            hash.AppendData(chunk, 0, 8 * count);
            writer.Write(chunk, 0, 8 * count);
        }
        writer.Write(hash.GetHashAndReset());
    }

    /// <summary>
    /// Reads the stream <paramref name="streamName"/> written by <see cref="WriteVector"/> (without the digest when
    /// <paramref name="hasDigest"/> is false): its count must be <paramref name="expectedCount"/> (else the message says
    /// "holds n values; {<paramref name="needs"/>} expectedCount"), and its digest must match. The count is checked
    /// against the bytes left before anything is allocated.
    /// </summary>
    public static double[] LoadVector(IHost host, ModelLoadContext ctx, string streamName, int expectedCount, bool hasDigest,
        string model, string needs)
    {
        double[]? values = null;
        bool found = ctx.TryLoadBinaryStream(streamName, reader =>
        {
            host.CheckDecode(8 <= Remaining(reader), $"The {model} model's stream {streamName} ends early.");
            byte[] countBytes = reader.ReadBytes(8);
            long count = BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            host.CheckDecode(count == expectedCount,
                $"The {model} model's stream {streamName} holds {count} values; {needs} {expectedCount}.");
            host.CheckDecode(8L * expectedCount + (hasDigest ? DigestSize : 0) <= Remaining(reader), $"The {model} model file ends early.");
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(countBytes);
            var result = new double[expectedCount];
            var chunk = new byte[8 * Math.Min(VectorChunkValues, Math.Max(1, expectedCount))];
            for (int start = 0; start < expectedCount; start += VectorChunkValues)
            {
                int n = Math.Min(VectorChunkValues, expectedCount - start);
                reader.BaseStream.ReadExactly(chunk, 0, 8 * n);
                hash.AppendData(chunk, 0, 8 * n);
                for (int i = 0; i < n; i++)
                    result[start + i] = BinaryPrimitives.ReadDoubleLittleEndian(chunk.AsSpan(8 * i));
            }
            if (hasDigest)
            {
                byte[] digest = reader.ReadBytes(DigestSize);
                host.CheckDecode(hash.GetHashAndReset().AsSpan().SequenceEqual(digest), CorruptedMessage(model, $"the stream {streamName}"));
            }
            values = result;
        });
        host.CheckDecode(found && values is not null, $"The {model} model file has no stream {streamName}.");
        return values!;
    }

    /// <summary>The message of a digest mismatch in <paramref name="what"/>.</summary>
    public static string CorruptedMessage(string model, string what)
        => $"The {model} model file is corrupted: the SHA-256 digest of {what} does not match its contents. Restore the file from a good copy or train the model again.";

    /// <summary>Bytes left in the reader's stream, or <see cref="long.MaxValue"/> when the stream cannot tell.</summary>
    public static long Remaining(BinaryReader reader)
        => reader.BaseStream.CanSeek ? reader.BaseStream.Length - reader.BaseStream.Position : long.MaxValue;

    /// <summary>Writes the values of a field block one after another (no count).</summary>
    public static void WriteDoubles(BinaryWriter writer, double[] values)
    {
        foreach (double value in values)
            writer.Write(value);
    }

    /// <summary>
    /// Reads <paramref name="count"/> values of a field block, after checking that the stream holds them ("The {model}
    /// model file ends early" otherwise), so that a damaged count never allocates more than the file justifies.
    /// </summary>
    public static double[] ReadDoubles(IHost host, BinaryReader reader, int count, string model)
    {
        host.CheckDecode(count >= 0 && 8L * count <= Remaining(reader), $"The {model} model file ends early.");
        var values = new double[count];
        for (int i = 0; i < count; i++)
            values[i] = reader.ReadDouble();
        return values;
    }

    /// <summary>The index of the first value that is NaN or infinite, or −1 when all are finite.</summary>
    public static int FirstNonFinite(double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                return i;
        }
        return -1;
    }
}
