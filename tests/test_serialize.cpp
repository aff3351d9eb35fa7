#include "helpers.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

using namespace tapegrad;
namespace fs = std::filesystem;

namespace {

// Files written by NumPy 1.24 (python3: see each comment), stored as hex.
// a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4;  b = np.array([1.5, -2.0], np.float32)
// np.savez(f, **{"0.weight": a, "0.bias": b})  -- its local headers carry ZIP64 extra fields
const char* const numpy_savez_hex =
    "504b0304140000000000000021000a9c00a498000000980000000c001400302e7765696768742e6e70790100"
    "100098000000000000009800000000000000934e554d5059010076007b276465736372273a20273c6634272c"
    "2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d20"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020200a000000000000803e0000003f0000403f0000803f0000a03f504b03041400"
    "0000000000002100d6434b0588000000880000000a001400302e626961732e6e707901001000880000000000"
    "00008800000000000000934e554d5059010076007b276465736372273a20273c6634272c2027666f72747261"
    "6e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020"
    "20202020200a0000c03f000000c0504b01021403140000000000000021000a9c00a498000000980000000c00"
    "00000000000000000000800100000000302e7765696768742e6e7079504b0102140314000000000000002100"
    "d6434b0588000000880000000a00000000000000000000008001d6000000302e626961732e6e7079504b0506"
    "0000000002000200720000009a0100000000"
    ;
// np.savez_compressed(f, **{"0.weight": a, "0.bias": b})  -- deflate entries
const char* const numpy_savez_compressed_hex =
    "504b0304140000000800000021000a9c00a456000000980000000c001400302e7765696768742e6e70790100"
    "1000980000000000000056000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2ae"
    "a3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402f91a463a0ac69a3a0ab50a64032e06"
    "3068b00312f60c0c0e40dc00c40bec01504b030414000000080000002100d6434b054b000000880000000a00"
    "1400302e626961732e6e70790100100088000000000000004b000000000000009bec17ea1b10c9c850c650ad"
    "9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402f9"
    "1a463a9a3a0ab50a14002e068603f60c400200504b01021403140000000800000021000a9c00a45600000098"
    "0000000c0000000000000000000000800100000000302e7765696768742e6e7079504b010214031400000008"
    "0000002100d6434b054b000000880000000a0000000000000000000000800194000000302e626961732e6e70"
    "79504b05060000000002000200720000001b0100000000"
    ;
// np.save(f, np.asfortranarray(a))
const char* const numpy_fortran_npy_hex =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20"
    "547275652c20277368617065273a2028322c2033292c207d2020202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000"
    "0000403f0000803e0000803f0000003f0000a03f"
    ;
// np.save(f, a.astype('>f4'))
const char* const numpy_big_endian_npy_hex =
    "934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a20"
    "46616c73652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000"
    "3e8000003f0000003f4000003f8000003fa00000"
    ;
// np.save(f, a.astype('<f8'))
const char* const numpy_float64_npy_hex =
    "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a20"
    "46616c73652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020"
    "2020202020202020202020202020202020202020202020202020202020202020202020202020200a00000000"
    "00000000000000000000d03f000000000000e03f000000000000e83f000000000000f03f000000000000f43f"
    ;

std::string unhex(const char* hex) {
    std::string out;
    for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
    return out;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t le32(const std::string& b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    return v;
}

std::uint32_t crc(const std::string& b) {
    return static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
}

// A fresh folder for one test, removed with everything in it at the end.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("tapegrad_test_serialize_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    fs::path operator/(const std::string& file) const { return path / file; }
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename());
        std::sort(names.begin(), names.end());
        return names;
    }
};

std::shared_ptr<nn::Sequential> small_model(std::size_t hidden = 4) {
    return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, hidden),
                                            std::make_shared<nn::Tanh>(),
                                            std::make_shared<nn::Linear>(hidden, 2));
}

Shape shape_of(const Array& a) { return Shape(a.shape().begin(), a.shape().end()); }

bool bitwise_equal(const Array& a, const Array& b) {
    // An empty array may have no storage: memcmp of a null pointer is undefined, even for 0 bytes.
    return a.shape() == b.shape() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

std::vector<Array> values_of(const nn::Module& m) {
    std::vector<Array> out;
    for (const Tensor& p : m.parameters()) out.push_back(p.value());
    return out;
}

const Array numpy_a = Array{{0.0f, 0.25f, 0.5f}, {0.75f, 1.0f, 1.25f}};

}  // namespace

// ---- the .npy format ------------------------------------------------------------------------

TEST_CASE("npy header bytes for a 2 by 3 array") {
    const std::string npy = to_npy(numpy_a);
    CHECK(npy.substr(0, 6) == "\x93NUMPY");
    CHECK(npy[6] == 1);  // version 1.0
    CHECK(npy[7] == 0);
    const std::size_t header_len = static_cast<unsigned char>(npy[8]) +
                                   256 * static_cast<unsigned char>(npy[9]);
    CHECK(header_len == 118);
    CHECK((10 + header_len) % 64 == 0);  // the data starts at a multiple of 64
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(npy.substr(10, dict.size()) == dict);
    CHECK(npy.substr(10 + dict.size(), header_len - dict.size() - 1) ==
          std::string(header_len - dict.size() - 1, ' '));
    CHECK(npy[10 + header_len - 1] == '\n');
    REQUIRE(npy.size() == 128 + 24);
    CHECK(le32(npy, 128) == 0x00000000u);   // 0.0f
    CHECK(le32(npy, 132) == 0x3e800000u);   // 0.25f, little-endian
    CHECK(le32(npy, 148) == 0x3fa00000u);   // 1.25f, the last in C order
}

TEST_CASE("npy bytes are identical to what NumPy writes") {
    const std::string numpy_file = unhex(numpy_savez_hex);
    const std::size_t at = numpy_file.find("\x93NUMPY");
    REQUIRE(at != std::string::npos);
    CHECK(to_npy(numpy_a) == numpy_file.substr(at, 152));
}

TEST_CASE("npy shapes of 0 1 and 3 dimensions are Python tuples and padded to 64") {
    const std::pair<Shape, std::string> cases[] = {
        {{}, "'shape': (), }"}, {{7}, "'shape': (7,), }"}, {{2, 0, 5}, "'shape': (2, 0, 5), }"}};
    for (const auto& [shape, text] : cases) {
        const std::string npy = to_npy(xt::zeros<float>(shape));
        const std::size_t header_len = static_cast<unsigned char>(npy[8]) +
                                       256 * static_cast<unsigned char>(npy[9]);
        INFO(text);
        CHECK(npy.find(text) != std::string::npos);
        CHECK((10 + header_len) % 64 == 0);
        CHECK(npy.size() == 10 + header_len + 4 * xt::zeros<float>(shape).size());
        CHECK(shape_of(from_npy(npy)) == shape);
    }
}

TEST_CASE("from_npy refuses a shape of more than 8 dimensions, naming the file") {
    std::string npy = to_npy(xt::zeros<float>({1, 1, 1, 1, 1, 1, 1, 1}));
    const std::size_t at = npy.find("1, 1)");
    REQUIRE(at != std::string::npos);
    npy.replace(at, 5, "1,1,1)");  // the same header length: nine dimensions
    CHECK_THROWS_WITH_AS(from_npy(npy, "deep.npy"),
                         doctest::Contains("deep.npy: the .npy header is malformed: the shape has "
                                           "more than 8 dimensions, the most a tapegrad array has"),
                         std::runtime_error);
}

TEST_CASE("from_npy reads Fortran order and big-endian float32") {
    const Array f = from_npy(unhex(numpy_fortran_npy_hex));
    CHECK(f == numpy_a);
    const Array b = from_npy(unhex(numpy_big_endian_npy_hex));
    CHECK(b == numpy_a);
}

TEST_CASE("from_npy, for float32, rejects float64 and says how to convert") {
    CHECK_THROWS_WITH_AS(from_npy(unhex(numpy_float64_npy_hex), "x.npy"),
                         "x.npy: the dtype is float64, but float32 is expected here; "
                         "convert it in Python with array.astype(numpy.float32)",
                         std::runtime_error);
}

TEST_CASE("from_npy_typed reads NumPy's float64 bit for bit and writes NumPy's bytes back") {
    const TypedArray a = from_npy_typed(unhex(numpy_float64_npy_hex), "x.npy");
    REQUIRE(dtype_of(a) == DType::float64);
    const auto& d = std::get<xt::xarray<double>>(a);
    CHECK(d == xt::xarray<double>({{0.0, 0.25, 0.5}, {0.75, 1.0, 1.25}}));
    CHECK(to_npy(a) == unhex(numpy_float64_npy_hex));
}

TEST_CASE("int64 and uint8 arrays have NumPy's headers and round trip") {
    const TypedArray counts = xt::xarray<std::int64_t>({-1, 1LL << 40});
    const std::string npy = to_npy(counts);
    CHECK(npy.find("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }") == 10);
    CHECK(npy.size() == 128 + 16);
    CHECK(std::get<xt::xarray<std::int64_t>>(from_npy_typed(npy)) == std::get<xt::xarray<std::int64_t>>(counts));
    const TypedArray text = text_array("--lr 0.05");
    CHECK(to_npy(text).find("'descr': '|u1'") != std::string::npos);
    CHECK(array_text(from_npy_typed(to_npy(text)), "settings") == "--lr 0.05");
    CHECK_THROWS_WITH_AS(array_text(counts, "extra.settings"),
                         "extra.settings should be text (a 1-D uint8 array), but it is int64 of "
                         "shape [2]",
                         std::runtime_error);
}

TEST_CASE("an .npz keeps float32, float64, int64 and uint8 entries, and load_arrays wants float32") {
    test::TempDir tmp;
    const std::string path = tmp.file("typed.npz");
    save_npz(path, {{"w", Array{1.5f}},
                    {"t", xt::xarray<double>{0.1}},
                    {"n", xt::xarray<std::int64_t>{7}},
                    {"s", text_array("hi")}});
    const NamedTypedArrays back = load_npz(path);
    REQUIRE(back.size() == 4);
    CHECK(dtype_of(back[0].second) == DType::float32);
    CHECK(std::get<xt::xarray<double>>(back[1].second)(0) == 0.1);
    CHECK(std::get<xt::xarray<std::int64_t>>(back[2].second)(0) == 7);
    CHECK(array_text(back[3].second, "s") == "hi");
    CHECK_THROWS_WITH_AS(load_arrays(path),
                         doctest::Contains("entry 't.npy' is float64, but float32 is expected"),
                         std::runtime_error);
}

TEST_CASE("from_npy rejects bad magic and a data size that does not match the shape") {
    std::string npy = to_npy(numpy_a);
    CHECK_THROWS_WITH_AS(from_npy(npy.substr(0, npy.size() - 4), "x.npy"),
                         "x.npy: the shape [2, 3] needs 24 bytes of data, but 20 follow the "
                         "header (it is truncated)",
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(from_npy(npy + "abcd", "x.npy"), doctest::Contains("28 follow"),
                         std::runtime_error);
    npy[1] = 'X';
    CHECK_THROWS_WITH_AS(from_npy(npy, "x.npy"), doctest::Contains("not an .npy array"),
                         std::runtime_error);
}

// ---- the .npz archive -----------------------------------------------------------------------

TEST_CASE("the archive holds one stored npy entry per parameter with its CRC-32") {
    TempDir dir("layout");
    manual_seed(5);
    auto model = small_model();
    const std::string path = dir / "model.npz";
    nn::save(*model, path);
    const std::string b = read_bytes(path);
    const std::string npy = to_npy(model->parameters()[0].value());
    REQUIRE(b.size() > 30 + 12 + npy.size());
    CHECK(le32(b, 0) == 0x04034b50u);                        // local file header
    CHECK((static_cast<unsigned char>(b[8]) | b[9]) == 0);   // method 0: stored
    CHECK(le32(b, 14) == crc(npy));                          // CRC-32 of the .npy bytes
    CHECK(le32(b, 18) == npy.size());                        // compressed size
    CHECK(le32(b, 22) == npy.size());                        // uncompressed size
    CHECK(b.substr(30, 12) == "0.weight.npy");
    CHECK(b.substr(42, npy.size()) == npy);
    const std::size_t end = b.size() - 22;
    CHECK(le32(b, end) == 0x06054b50u);  // end of central directory, no comment
    CHECK(static_cast<unsigned char>(b[end + 10]) == 4);  // 4 entries
    CHECK(b.find("0.bias.npy") != std::string::npos);
    CHECK(b.find("2.weight.npy") != std::string::npos);
    CHECK(b.find("2.bias.npy") != std::string::npos);
}

TEST_CASE("saving twice gives the same bytes") {
    TempDir dir("deterministic");
    auto model = small_model();
    nn::save(*model, dir / "a.npz");
    nn::save(*model, dir / "b.npz");
    CHECK(read_bytes(dir / "a.npz") == read_bytes(dir / "b.npz"));
}

TEST_CASE("save then load round trip is exact") {
    TempDir dir("round_trip");
    manual_seed(6);
    auto saved = small_model();
    manual_seed(7);
    auto loaded = small_model();
    REQUIRE_FALSE(bitwise_equal(saved->parameters()[0].value(), loaded->parameters()[0].value()));
    const Tensor handle = loaded->parameters()[0];  // an optimizer's handle stays valid
    nn::save(*saved, dir / "model.npz");
    nn::load(*loaded, dir / "model.npz");
    const auto a = values_of(*saved), b = values_of(*loaded);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(bitwise_equal(a[i], b[i]));
    CHECK(bitwise_equal(handle.value(), a[0]));
    const Tensor x(test::random_array({3, 3}));
    CHECK((*saved)(x).value() == (*loaded)(x).value());
}

TEST_CASE("save_arrays and load_arrays keep names order shapes and special values") {
    TempDir dir("arrays");
    const float inf = std::numeric_limits<float>::infinity();
    const Array special{-0.0f, inf, -inf, 1e-45f, 3.4028235e38f, std::nanf("")};
    const NamedArrays arrays = {{"model.0.weight", numpy_a},
                                    {"optimizer.step", Array(3.0f)},  // 0-d
                                    {"optimizer.0.weight.m", special},
                                    {"empty", xt::zeros<float>({0, 3})}};
    save_arrays(dir / "state.npz", arrays);
    const NamedArrays back = load_arrays(dir / "state.npz");
    REQUIRE(back.size() == arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
        CHECK(back[i].first == arrays[i].first);
        CHECK(bitwise_equal(back[i].second, arrays[i].second));
    }
    CHECK(back[1].second.dimension() == 0);
    CHECK(shape_of(back[3].second) == Shape{0, 3});
}

TEST_CASE("save_arrays rejects empty and duplicate names before writing") {
    TempDir dir("names");
    CHECK_THROWS_WITH_AS(save_arrays(dir / "x.npz", {{"a", numpy_a}, {"a", numpy_a}}),
                         doctest::Contains("'a' appears twice"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(save_arrays(dir / "x.npz", {{"", numpy_a}}),
                         doctest::Contains("empty name"), std::invalid_argument);
    CHECK(dir.files().empty());
}

TEST_CASE("reads a file written by numpy.savez with ZIP64 extra fields") {
    TempDir dir("numpy_savez");
    write_bytes(dir / "np.npz", unhex(numpy_savez_hex));
    const NamedArrays arrays = load_arrays(dir / "np.npz");
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].first == "0.weight");
    CHECK(arrays[0].second == numpy_a);
    CHECK(arrays[1].first == "0.bias");
    CHECK(arrays[1].second == Array{1.5f, -2.0f});
}

TEST_CASE("reads a file written by numpy.savez_compressed") {
    TempDir dir("numpy_compressed");
    write_bytes(dir / "np.npz", unhex(numpy_savez_compressed_hex));
    const NamedArrays arrays = load_arrays(dir / "np.npz");
    REQUIRE(arrays.size() == 2);
    CHECK(arrays[0].second == numpy_a);
    CHECK(arrays[1].second == Array{1.5f, -2.0f});
    // into a model with these names and shapes
    nn::Sequential model{std::make_shared<nn::Linear>(3, 2)};
    nn::load(model, dir / "np.npz");
    CHECK(model.at<nn::Linear>(0)->weight.value() == numpy_a);
    CHECK(model.at<nn::Linear>(0)->bias.value() == Array{1.5f, -2.0f});
}

// ---- failures -------------------------------------------------------------------------------

TEST_CASE("load into a model of different shape lists every mismatch and changes nothing") {
    TempDir dir("mismatch");
    const std::string path = dir / "model.npz";
    nn::save(*small_model(4), path);
    // 0.weight [5, 3] vs [4, 3], 0.bias [5] vs [4], 2.weight [2, 5] vs [2, 4]; 3.* is missing
    // from the file; 2.bias matches.
    manual_seed(8);
    nn::Sequential other{std::make_shared<nn::Linear>(3, 5), std::make_shared<nn::Tanh>(),
                         std::make_shared<nn::Linear>(5, 2), std::make_shared<nn::Linear>(2, 1)};
    const auto before = values_of(other);
    std::string message;
    try {
        nn::load(other, path);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    INFO(message);
    CHECK(message.find("load: '" + path + "' does not match the model (5 problems); the model "
                       "is unchanged:") == 0);
    CHECK(message.find("shape differs for '0.weight': [4, 3] in '" + path +
                       "', [5, 3] in the model") != std::string::npos);
    CHECK(message.find("shape differs for '0.bias': [4] in") != std::string::npos);
    CHECK(message.find("shape differs for '2.weight': [2, 4] in") != std::string::npos);
    CHECK(message.find("missing from '" + path + "': '3.weight' [1, 2]") != std::string::npos);
    CHECK(message.find("missing from '" + path + "': '3.bias' [1]") != std::string::npos);
    CHECK(message.find("'2.bias'") == std::string::npos);
    const auto after = values_of(other);
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(bitwise_equal(before[i], after[i]));
}

TEST_CASE("load reports names the model does not have and changes nothing") {
    TempDir dir("unexpected");
    const std::string path = dir / "state.npz";
    nn::Linear fc(3, 2);
    NamedArrays arrays = nn::parameter_arrays(fc);
    arrays[0].second.fill(9.0f);
    arrays.emplace_back("optimizer.step", Array(1.0f));
    save_arrays(path, arrays);
    const Array before = fc.weight.value();
    CHECK_THROWS_WITH_AS(nn::load(fc, path),
                         doctest::Contains("(1 problem); the model is unchanged:\n  not in the "
                                           "model: 'optimizer.step' []"),
                         std::runtime_error);
    CHECK(fc.weight.value() == before);
    // Splitting off the optimizer's part first is how such a checkpoint is loaded.
    NamedArrays model_part;
    for (auto& [name, a] : load_arrays(path))
        if (name.rfind("optimizer.", 0) != 0) model_part.emplace_back(name, a);
    nn::assign_parameters(fc, model_part, path);
    CHECK(xt::all(xt::equal(fc.weight.value(), 9.0f)));
}

TEST_CASE("a missing file fails naming the file") {
    nn::Linear fc(2, 2);
    CHECK_THROWS_WITH_AS(nn::load(fc, "/nonexistent/model.npz"),
                         "load_arrays: /nonexistent/model.npz: cannot open: No such file or "
                         "directory",
                         std::runtime_error);
}

TEST_CASE("a file truncated at any length fails naming the file") {
    TempDir dir("truncated");
    const std::string path = dir / "model.npz";
    manual_seed(9);
    auto model = small_model();
    nn::save(*model, path);
    const std::string whole = read_bytes(path);
    const auto before = values_of(*model);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        write_bytes(path, whole.substr(0, n));
        std::string message;
        try {
            nn::load(*model, path);
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
        INFO("truncated to ", n, " of ", whole.size(), " bytes");
        CHECK(message.find("'" + path + "'") != std::string::npos);
    }
    const auto after = values_of(*model);
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(bitwise_equal(before[i], after[i]));
}

TEST_CASE("a flipped byte in the data fails the CRC check naming the file") {
    TempDir dir("flipped");
    const std::string path = dir / "model.npz";
    auto model = small_model();
    nn::save(*model, path);
    std::string bytes = read_bytes(path);
    bytes[42 + 128 + 5] ^= 0x10;  // inside the numbers of 0.weight
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(load_arrays(path),
                         doctest::Contains(("load_arrays: '" + path + "': entry '0.weight.npy' "
                                            "is corrupted: its CRC-32 is").c_str()),
                         std::runtime_error);
}

TEST_CASE("any single flipped byte either fails or loads the very same values") {
    TempDir dir("every_flip");
    const std::string path = dir / "model.npz";
    NamedArrays arrays = {{"w", numpy_a}, {"b", Array{1.5f, -2.0f}}};
    save_arrays(path, arrays);
    const std::string whole = read_bytes(path);
    int failed = 0;
    for (std::size_t i = 0; i < whole.size(); ++i) {
        std::string bytes = whole;
        bytes[i] ^= 0x01;
        write_bytes(path, bytes);
        try {
            const NamedArrays back = load_arrays(path);
            INFO("byte ", i);
            REQUIRE(back.size() == 2);
            CHECK(back[0].first == "w");
            CHECK(bitwise_equal(back[0].second, numpy_a));
            CHECK(bitwise_equal(back[1].second, arrays[1].second));
        } catch (const std::runtime_error& e) {
            ++failed;
            CHECK(std::string(e.what()).find("'" + path + "'") != std::string::npos);
        }
    }
    // Every byte of names, headers, numbers and CRCs is checked; only fields such as the
    // timestamps and file attributes may change freely.
    CHECK(failed > static_cast<int>(whole.size()) * 3 / 4);
}

// ---- atomic writes --------------------------------------------------------------------------

TEST_CASE("saving into a folder that does not exist fails and leaves no temporary file") {
    TempDir dir("no_folder");
    const std::string path = dir / "missing" / "model.npz";
    CHECK_THROWS_WITH_AS(nn::save(nn::Linear(2, 2), path),
                         doctest::Contains(("save_arrays: cannot write '" + path + "'").c_str()),
                         std::runtime_error);
    CHECK(dir.files().empty());
}

TEST_CASE("save replaces an existing file and leaves no temporary file") {
    TempDir dir("replace");
    const std::string path = dir / "model.npz";
    write_bytes(path, "old contents");
    nn::Linear fc(2, 2);
    nn::save(fc, path);
    CHECK(dir.files() == std::vector<std::string>{"model.npz"});
    CHECK(load_arrays(path)[0].second == fc.weight.value());
    CHECK((fs::status(path).permissions() & fs::perms::owner_read) != fs::perms::none);
}

TEST_CASE("a write that fails half way leaves the previous file intact") {
    TempDir dir("failed_write");
    const std::string path = dir / "model.npz";
    nn::Linear small(2, 2);
    nn::save(small, path);
    const std::string old = read_bytes(path);

    // The file size limit makes write() fail with EFBIG once the temporary file passes 4 KiB,
    // as a full disk would.
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    rlimit low = saved;
    low.rlim_cur = 4096;
    const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &low) == 0);
    std::string message;
    try {
        nn::save(nn::Linear(100, 100), path);  // 40 KB
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, old_handler);

    INFO(message);
    CHECK(message.find("save_arrays: cannot write '" + path + "': writing failed") == 0);
    CHECK(message.find("any previous file is unchanged") != std::string::npos);
    CHECK(read_bytes(path) == old);
    CHECK(dir.files() == std::vector<std::string>{"model.npz"});
    CHECK(load_arrays(path)[0].second == small.weight.value());
}

TEST_CASE("array_named finds an array by its name, and names the ones there are when it is missing") {
    const NamedArrays arrays{{"fc.weight", Array{1.0f, 2.0f}}, {"fc.bias", Array{3.0f}}};
    CHECK(array_named(arrays, "fc.bias") == Array{3.0f});
    CHECK(&array_named(arrays, "fc.weight") == &arrays[0].second);  // the array itself, no copy
    CHECK_THROWS_WITH_AS(array_named(arrays, "fc.weigth"),
                         "array_named: there is no array named 'fc.weigth'; there are fc.weight, fc.bias",
                         std::invalid_argument);
    const NamedTypedArrays typed{{"labels", xt::xarray<std::int64_t>{3, 1}}};
    CHECK(std::get<xt::xarray<std::int64_t>>(array_named(typed, "labels"))(1) == 1);
    CHECK_THROWS_WITH_AS(array_named(NamedTypedArrays{}, "x"),
                         "array_named: there is no array named 'x' (there are none)", std::invalid_argument);
}

TEST_CASE("tensor_named reads int64 labels from an npz file as a tensor of class indices") {
    test::TempDir dir;
    const std::string path = dir.file("data.npz");
    save_npz(path, {{"x", Array{0.5f, 1.5f, 2.5f}},
                    {"y", xt::xarray<std::int64_t>{2, 0, 1}},
                    {"mask", xt::xarray<std::uint8_t>{1, 0, 1}},
                    {"ids", xt::xarray<std::int64_t>{16777217}}});
    const NamedTypedArrays arrays = load_npz(path);
    const Tensor logits(Array{{0.1f, 0.2f, 0.3f}, {0.3f, 0.2f, 0.1f}, {0.0f, 1.0f, 0.0f}}, true);
    const Tensor y = tensor_named(arrays, "y");
    CHECK(y.value() == Array{2.0f, 0.0f, 1.0f});
    CHECK(tensor_named(arrays, "mask").value() == Array{1.0f, 0.0f, 1.0f});
    CHECK(tensor_named(arrays, "x").value() == Array{0.5f, 1.5f, 2.5f});
    CHECK(std::isfinite(cross_entropy(logits, y).item()));  // ready as class indices
    CHECK_THROWS_WITH_AS(tensor_named(arrays, "ids"),
                         doctest::Contains("tensor_named: 'ids' is int64 and its element 0, 16777217, "
                                           "has no exact float32"),
                         std::invalid_argument);
}
