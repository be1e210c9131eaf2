// OpenProvider (DATA_PROVIDER) and the sample provider's settings (parsed by LoadConfig, the
// one settings parser) and zip table.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "dripr/fetcher/config.h"
#include "dripr/providers/provider.h"
#include "dripr/providers/sample/sample_provider.h"
#include "dripr/providers/sample/zip_centroids.h"
#include "support/ctest_env.h"

namespace dripr {
namespace {

using Vars = std::map<std::string, std::string>;

Result<ProviderPtr> Open(const Vars& vars) {
  DRIPR_ASSIGN_OR_RETURN(auto c, LoadConfig(Env::FromMap(vars)));
  return OpenProvider(c.provider, c.sample, c.rentcast);
}

Result<SampleProviderOptions> SampleOptions(const Vars& vars) {
  DRIPR_ASSIGN_OR_RETURN(auto c, LoadConfig(Env::FromMap(vars)));
  return c.sample;
}

using testing::DataDir;

TEST(OpenProvider, DefaultsToSample) {
  auto p = Open((Vars{}));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)->Name(), "sample");
  auto explicit_sample = Open((Vars{{"DATA_PROVIDER", "sample"}}));
  ASSERT_TRUE(explicit_sample);
  EXPECT_EQ((*explicit_sample)->Name(), "sample");
}

TEST(OpenProvider, RejectsUnknownProviders) {
  for (const char* name : {"Sample", "attom", "rentcast "}) {
    auto p = Open((Vars{{"DATA_PROVIDER", name}}));
    ASSERT_FALSE(p) << name;
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(p.error().message,
              std::string("DATA_PROVIDER must be sample or rentcast, got \"") + name + "\"");
  }
}

TEST(OpenProvider, PassesSampleSettingsThrough) {
  auto p = Open((Vars{{"DRIPR_SAMPLE_SPARSE_ZIPS", "02139"}}));
  ASSERT_TRUE(p);
  auto few = (*p)->ActiveListings(SearchArea{{42.3736, -71.1097}, 8, "02139"});
  ASSERT_TRUE(few);
  EXPECT_EQ(few->size(), SampleProvider::kSparseMaxResults);
  auto bad = Open((Vars{{"DRIPR_SAMPLE_LATENCY_MS", "-5"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(SampleProviderOptions, ParsesSparseZipsAndLatency) {
  auto o = SampleOptions((
      Vars{{"DRIPR_SAMPLE_SPARSE_ZIPS", " 02139, 59 ,,99501"}, {"DRIPR_SAMPLE_LATENCY_MS", "25"}}));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->sparse_zip_prefixes, (std::vector<std::string>{"02139", "59", "99501"}));
  EXPECT_EQ(o->latency, std::chrono::milliseconds(25));
  EXPECT_EQ(o->zips, nullptr);

  auto none = SampleOptions((Vars{}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->sparse_zip_prefixes.empty());
  EXPECT_EQ(none->latency, std::chrono::milliseconds(0));

  auto bad = SampleOptions((Vars{{"DRIPR_SAMPLE_SPARSE_ZIPS", "02139,abc"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message,
            "DRIPR_SAMPLE_SPARSE_ZIPS: \"abc\" is not a zip code or zip prefix (1 to 5 digits)");
  auto too_long = SampleOptions((Vars{{"DRIPR_SAMPLE_SPARSE_ZIPS", "021390"}}));
  ASSERT_FALSE(too_long);
}

TEST(SampleProviderOptions, ZipTableFromExplicitFileOrDataDir) {
  auto dir = std::filesystem::temp_directory_path() / ("dripr-zips-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "zip_codes.csv");
    f << "zip_code,latitude,longitude\n02139,42.3647,-71.1042\n68862,41.5,-99.5\n";
  }
  // The settings name the file; the provider loads it when it opens.
  auto from_dir = SampleOptions((Vars{{"DRIPR_DATA_DIR", dir.string()}}));
  ASSERT_TRUE(from_dir) << from_dir.error().message;
  EXPECT_EQ(from_dir->zip_csv_path, (dir / "zip_codes.csv").string());
  EXPECT_TRUE(Open((Vars{{"DRIPR_DATA_DIR", dir.string()}})));

  auto from_file =
      SampleOptions((Vars{{"DRIPR_SAMPLE_ZIP_CSV", (dir / "zip_codes.csv").string()}}));
  ASSERT_TRUE(from_file);
  EXPECT_EQ(from_file->zip_csv_path, (dir / "zip_codes.csv").string());
  EXPECT_EQ(from_file->zip_csv_variable, "DRIPR_SAMPLE_ZIP_CSV");

  // A data dir without the file is fine (no table); an explicit file that is missing is not.
  auto empty_dir = SampleOptions((Vars{{"DRIPR_DATA_DIR", (dir / "none").string()}}));
  ASSERT_TRUE(empty_dir);
  EXPECT_EQ(empty_dir->zip_csv_path, "");
  EXPECT_TRUE(Open((Vars{{"DRIPR_DATA_DIR", (dir / "none").string()}})));
  auto missing = Open((Vars{{"DRIPR_SAMPLE_ZIP_CSV", (dir / "nope.csv").string()}}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().message,
            "DRIPR_SAMPLE_ZIP_CSV: cannot read zip centroids " + (dir / "nope.csv").string());
  std::filesystem::remove_all(dir);
}

TEST(ZipCentroids, ParsesCsvAndNamesBadLines) {
  auto z = ZipCentroids::FromCsv("zip_code,latitude,longitude\r\n00601,18.18,-66.75\r\n", "t.csv");
  ASSERT_TRUE(z) << z.error().message;
  EXPECT_EQ(z->size(), 1u);
  EXPECT_NEAR(z->Find("00601")->lat, 18.18, 1e-9);
  EXPECT_EQ(z->Find("00602"), std::nullopt);
  for (const char* bad :
       {"zip_code,latitude,longitude\n0601,18.1,-66.7\n",
        "zip_code,latitude,longitude\n00601,x,-66.7\n", "zip_code,latitude,longitude\n00601,18.1\n",
        "zip_code,latitude,longitude\n00601,18.1,-66.7,9\n",
        "zip_code,latitude,longitude\n00601,98.1,-66.7\n"}) {
    auto r = ZipCentroids::FromCsv(bad, "t.csv");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, "t.csv:2: expected zip_code,latitude,longitude");
  }
}

// The rules the stream-based reader had, kept by the in-place one: a trailing comma adds no
// field, the last row needs no newline, blank lines are skipped but counted.
TEST(ZipCentroids, ReadsRowsAsTheStreamReaderDid) {
  auto z = ZipCentroids::FromCsv("00601,18.18,-66.75,\n\n00602,18.36,-67.18", "t.csv");
  ASSERT_TRUE(z) << z.error().message;
  EXPECT_EQ(z->size(), 2u);
  EXPECT_NEAR(z->Find("00602")->lng, -67.18, 1e-9);
  auto r = ZipCentroids::FromCsv("zip\n\n00601,18.1,-66.7,,\n", "t.csv");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.csv:3: expected zip_code,latitude,longitude");
}

TEST(ZipCentroids, NearestFindsTheClosestCentroidAcrossBucketEdges) {
  auto z = ZipCentroids::FromList({{"00001", {42.249, -71.0}},  // just across a 0.25° edge
                                   {"00002", {42.10, -71.0}},
                                   {"00003", {45.0, -71.0}}});
  EXPECT_EQ(z.Nearest({42.251, -71.0}), "00001");
  EXPECT_EQ(z.Nearest({42.12, -71.0}), "00002");
  EXPECT_EQ(z.Nearest({44.5, -71.0}), "00003");
  EXPECT_EQ(z.Nearest({10, 10}), std::nullopt);  // nothing within ~1.5 degrees
  EXPECT_EQ(ZipCentroids().Nearest({42, -71}), std::nullopt);
}

TEST(ZipCentroids, LoadsTheShippedTable) {
  ASSERT_FALSE(DataDir().empty());
  auto z = ZipCentroids::LoadFile(DataDir() + "/zip_codes.csv");
  ASSERT_TRUE(z) << z.error().message;
  EXPECT_GT(z->size(), 30'000u);
  ASSERT_TRUE(z->Find("02139"));
  EXPECT_EQ(z->Nearest(*z->Find("02139")), "02139");
  EXPECT_EQ(z->Nearest({40.7580, -73.9855}).value_or("").substr(0, 3), "100");
}

}  // namespace
}  // namespace dripr
