// column_order.h — experts (columns) in blocks, as the EMO paper draws its domain x expert maps:
// each column goes to the block of the row it is largest in (the domain it serves most), blocks in
// row order, and within a block the largest values first. Shared by `render` and the app.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace moescope::render {

// The new order of the columns: position -> original column. NaN values never win a column.
std::vector<int> columns_in_blocks(int rows, int cols, const std::function<double(int row, int col)>& value);

// Applies an order to the columns of a [rows][cols] matrix and to its labels (labels missing
// where there were none are numbered from 0).
void reorder_columns(std::vector<std::vector<double>>& values, std::vector<std::string>& labels, const std::vector<int>& order);

}  // namespace moescope::render
