using System.Text;

namespace KeyBrake.Audit;

/// <summary>A growable byte buffer reused across entries, so hashing and exporting allocate nothing per entry.</summary>
public sealed class ByteBuffer(int initialCapacity)
{
    private byte[] _bytes = new byte[Math.Max(16, initialCapacity)];
    private int _length;

    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, _length);

    public void Reset() => _length = 0;

    public Span<byte> GetSpan(int size)
    {
        if (_length + size > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + size));
        }
        return _bytes.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void AppendUtf8(ReadOnlySpan<char> text)
    {
        var written = Encoding.UTF8.GetBytes(text, GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        _length += written;
    }
}
